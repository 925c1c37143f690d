"""Words too common to be keywords: Chinese function words and reporting verbs, English stopwords.

Single Chinese characters never become keywords anyway, so only words of two or more characters
are listed for Chinese.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


CHINESE = _words(
    """
    一个 一些 一种 一直 一方面 一起 一样 一般 万元 上述 不仅 不断 不过 不同 与此同时 专家 两个 为了
    主要 之一 之后 之间 也是 也要 了解 事情 今年 今天 他们 以上 以下 以及 以后 以来 任何 但是 作为
    你们 使用 例如 其中 其他 其它 具体 决定 出来 分别 到了 包括 十分 去年 发现 受访 另外 另一方面 只是
    只有 可以 可能 同时 同比 后来 告诉 因为 因此 因而 地区 均为 基本 处于 多个 大家 如果 如何 如此
    它们 实现 对于 已经 并且 应该 开始 开展 必须 怎么 总是 我们 或者 所以 所有 所谓 把握 指出 提出
    提到 提供 据悉 方面 日前 时间 时候 是否 显示 更加 最后 有关 有些 有的 本次 本地 来说 此前 此外
    此次 每个 没有 然后 然而 特别 现在 目前 直接 相关 看来 知道 确实 称为 突出 第一 等等 而且 而是
    能够 虽然 表示 要求 认为 记者 记者会 论述 该局 近日 还是 这个 这些 这么 这是 这样 这种 这一 进一步
    进行 通过 那么 那些 需要 非常 全面 意味着 其实 由于 自己 起来 之前 之下 之上 只要 不是 就是 还有
    这次 什么 为何 怎样 之所以 从而 以便 并非 到底 有所 加以 予以 据了解 据介绍 介绍 报道 消息 新闻
    来源 文章 编辑 责任编辑 本报 本报讯 日电 综合 转载 原标题
    """
)

ENGLISH = _words(
    """
    a about above after again against all also am an and any are aren't as at be because been before being below
    between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
    few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself
    him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself just let's like may me
    might more most mr mrs ms much must mustn't my myself new no nor not now of off on once one only or other
    ought our ours ourselves out over own per said same say says shan't she she'd she'll she's should shouldn't
    since so some such than that that's the their theirs them themselves then there there's these they they'd
    they'll they're they've this those through to too two under until up upon us very via was wasn't we we'd we'll
    we're we've were weren't what what's when when's where where's which while who who's whom why why's will with
    won't would wouldn't year years yet you you'd you'll you're you've your yours yourself yourselves told
    according including
    """
)
