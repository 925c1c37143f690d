"""Stories: copies and near-copies of one news story, grouped under one `story_id`.

- `sketch`: the pure fingerprint of an article (MinHash sketches of its shingles, LSH band keys,
  title and figures), cheap enough to compute for every article;
- `match`: the pure decision whether two fingerprints are one story;
- `assign`: the pure assignment of a batch of articles to stories, from what the shared state holds;
- `store`: the shared state in Elasticsearch (one record per article, one document per story);
- `grouping`: what the normalize worker calls: fingerprints, store calls and assignment together;
- `labels`, `evaluation`: the labelled set of real posts and `newsflow eval stories`.
"""
