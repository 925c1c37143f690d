//! The Chinese keyword step of newsflow's normalizer (`pipeline.tagging.chinese_keywords`) in Rust, and the
//! shingle hashes and sketches of story fingerprints (`sketch.rs`, for `pipeline.stories.sketch`).
//!
//! Segmentation is jieba-rs, the release rjieba is built on, with the same bundled dictionary and the
//! same terms added in the same order, so it cuts every text as rjieba does. Everything the keyword step
//! reads from Python's world is handed over once by `pipeline.tagging` when it builds a `Keywords`: the
//! IDF table's path (read here, as Python reads it), the stopword sets, the tuning constants and the two character classes whose
//! definition belongs to Python's Unicode database (a letter of `re`'s `[^\W\d_]`, and `str.isdigit`),
//! plus the characters outside ASCII whose `str.lower()` is ASCII. The arithmetic and the orderings are
//! those of the Python code, step by step: f64 products in the same order, stable sorts, first-occurrence
//! order for ties, non-overlapping substring counts.

use std::collections::HashMap as StdHashMap;
use std::collections::HashSet as StdHashSet;
use std::path::{Path, PathBuf};

use memchr::memmem;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use jieba_rs::Jieba;

mod sketch;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

const CODE_POINTS: usize = 0x11_0000;

/// One bit per code point.
struct CharSet {
    bits: Vec<u64>,
}

impl CharSet {
    fn from_ranges(ranges: &[(u32, u32)]) -> PyResult<Self> {
        let mut bits = vec![0u64; CODE_POINTS / 64];
        for &(start, end) in ranges {
            if start > end || end as usize > CODE_POINTS {
                return Err(PyValueError::new_err(format!("bad code point range {start}..{end}")));
            }
            for cp in start..end {
                bits[cp as usize / 64] |= 1 << (cp % 64);
            }
        }
        Ok(Self { bits })
    }

    #[inline]
    fn contains(&self, c: char) -> bool {
        let cp = c as usize;
        self.bits[cp / 64] & (1 << (cp % 64)) != 0
    }
}

/// `re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")`, one character.
#[inline]
fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}')
}

/// jieba's IDF table (`word idf` per line) and the median of its values, read as
/// `pipeline.tagging.idf_table` reads it: a line split at its first space, both parts non-empty, the value
/// a float, a word seen again taking the later value; the median of an even count is the mean of the two
/// middle values. Read here rather than handed over as a dict, so a process never holds the table twice
/// (Python's dict of it is 40 MB).
fn read_idf(path: &Path) -> PyResult<(HashMap<String, f64>, f64)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| PyValueError::new_err(format!("cannot read the IDF table {}: {e}", path.display())))?;
    let mut table: HashMap<String, f64> = HashMap::default();
    for line in text.lines() {
        let (word, value) = line.split_once(' ').unwrap_or((line, ""));
        if word.is_empty() || value.is_empty() {
            continue;
        }
        let idf: f64 = value
            .trim()
            .parse()
            .map_err(|_| PyValueError::new_err(format!("the IDF table has a bad value: {line:?}")))?;
        table.insert(word.to_owned(), idf);
    }
    if table.is_empty() {
        return Err(PyValueError::new_err(format!("the IDF table {} is empty", path.display())));
    }
    let mut values: Vec<f64> = table.values().copied().collect();
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
    Ok((table, median))
}

/// The keyword step, built once per process from what Python hands over.
#[pyclass(frozen)]
struct Keywords {
    jieba: Jieba,
    idf: HashMap<String, f64>,
    median: f64,
    chinese: HashSet<String>,
    english: HashSet<String>,
    letters: CharSet,
    digits: CharSet,
    /// Characters outside ASCII whose Python `lower()` is ASCII (the Kelvin sign), with that lowercase.
    ascii_lower: HashMap<char, String>,
    phrase_min_count: usize,
    phrase_min_share: f64,
    phrase_max_chars: usize,
    phrase_candidates: usize,
    spare: isize,
    terms_added: Vec<String>,
}

/// Python's `sequence[:stop]` length for a sequence of `len` items.
fn slice_end(len: usize, stop: isize) -> usize {
    if stop >= 0 {
        (stop as usize).min(len)
    } else {
        len.saturating_sub(stop.unsigned_abs())
    }
}

/// Python's `str.count` (non-overlapping, left to right) for a non-empty needle.
#[inline]
fn count(haystack: &str, needle: &str) -> usize {
    // Matches of valid UTF-8 in valid UTF-8 start and end on character boundaries, so the byte count is
    // the character count.
    memmem::find_iter(haystack.as_bytes(), needle.as_bytes()).count()
}

/// A map that keeps its keys in insertion order, as a Python dict does.
struct Ordered<'a, V> {
    index: HashMap<&'a str, usize>,
    items: Vec<(&'a str, V)>,
}

impl<'a, V> Ordered<'a, V> {
    fn with_capacity(n: usize) -> Self {
        Self { index: HashMap::with_capacity_and_hasher(n, Default::default()), items: Vec::with_capacity(n) }
    }

    fn get(&self, key: &str) -> Option<&V> {
        self.index.get(key).map(|&i| &self.items[i].1)
    }

    /// `d[key] = value`: an existing key keeps its place.
    fn set(&mut self, key: &'a str, value: V) {
        match self.index.get(key) {
            Some(&i) => self.items[i].1 = value,
            None => {
                self.index.insert(key, self.items.len());
                self.items.push((key, value));
            }
        }
    }
}

impl Keywords {
    /// Python's `word.lower() in ENGLISH` (the stopwords are ASCII, checked at construction).
    fn is_english_stopword(&self, word: &str) -> bool {
        let mut lower = String::with_capacity(word.len());
        for c in word.chars() {
            if c.is_ascii() {
                lower.push(c.to_ascii_lowercase());
            } else if let Some(mapped) = self.ascii_lower.get(&c) {
                lower.push_str(mapped);
            } else {
                return false; // its lowercase holds a character outside ASCII
            }
        }
        self.english.contains(&lower)
    }

    /// `_is_candidate`.
    fn is_candidate(&self, word: &str) -> bool {
        let mut chars = word.chars();
        let first = match chars.next() {
            Some(c) => c,
            None => return false,
        };
        if chars.next().is_none() || self.chinese.contains(word) || !word.chars().any(|c| self.letters.contains(c)) {
            return false;
        }
        if word.chars().any(is_han) {
            return !self.digits.contains(first);
        }
        !self.is_english_stopword(word) && !self.digits.contains(first)
    }

    /// `_weight`: the IDF of a candidate, 0.0 for a token that cannot be a keyword.
    fn weight(&self, word: &str) -> f64 {
        if !self.is_candidate(word) {
            return 0.0;
        }
        self.idf.get(word).copied().unwrap_or(self.median)
    }

    fn table_or_median(&self, word: &str) -> f64 {
        self.idf.get(word).copied().unwrap_or(self.median)
    }

    fn keywords(&self, text: &str, limit: isize) -> Vec<String> {
        // Counter(segment(text)): counts in order of first occurrence.
        let mut counts: Ordered<usize> = Ordered::with_capacity(text.len() / 4 + 8);
        for token in self.jieba.cut(text, true) {
            let word = token.word;
            match counts.index.get(word) {
                Some(&i) => counts.items[i].1 += 1,
                None => {
                    counts.index.insert(word, counts.items.len());
                    counts.items.push((word, 1));
                }
            }
        }

        let mut weights: HashMap<&str, f64> = HashMap::default();
        let mut scores: Ordered<f64> = Ordered::with_capacity(counts.items.len());
        let mut frequent: Vec<(&str, usize)> = Vec::new();
        for &(word, n) in &counts.items {
            let weight = self.weight(word);
            if weight != 0.0 {
                weights.insert(word, weight);
                scores.set(word, n as f64 * weight);
                if n >= self.phrase_min_count {
                    frequent.push((word, n));
                }
            }
        }
        // Most frequent first; the stable sort keeps ties in order of first occurrence.
        frequent.sort_by(|a, b| b.1.cmp(&a.1));
        let mut by_count: Ordered<usize> = Ordered::with_capacity(frequent.len());
        for &(word, n) in &frequent {
            by_count.set(word, n);
        }

        // The phrases, as `_phrases` finds them.
        let heads: Vec<&str> = by_count.items.iter().take(self.phrase_candidates).map(|&(w, _)| w).collect();
        let mut pairs: Vec<(usize, &str, &str)> = Vec::new();
        let mut joined = String::new();
        for &a in &heads {
            for &b in &heads {
                if a != b && a.chars().count() + b.chars().count() <= self.phrase_max_chars {
                    joined.clear();
                    joined.push_str(a);
                    joined.push_str(b);
                    let n = count(text, &joined);
                    if n >= self.phrase_min_count {
                        pairs.push((n, a, b));
                    }
                }
            }
        }
        // sorted(pairs, reverse=True): tuples compared whole (str order is code point order, as UTF-8 bytes).
        pairs.sort_by(|x, y| y.cmp(x));
        let original: HashMap<&str, usize> = by_count.items.iter().map(|&(w, n)| (w, n)).collect();
        let mut phrases: Vec<(&str, &str, usize)> = Vec::new();
        for &(n, a, b) in &pairs {
            let least = original[a].min(original[b]);
            let (fa, fb) = (*by_count.get(a).unwrap_or(&0), *by_count.get(b).unwrap_or(&0));
            if (n as f64) < self.phrase_min_share * least as f64 || fa < n || fb < n {
                continue;
            }
            by_count.set(a, fa - n);
            by_count.set(b, fb - n);
            phrases.push((a, b, n));
        }

        let mut phrase_words: Vec<String> = Vec::with_capacity(phrases.len());
        for &(a, b, _) in &phrases {
            phrase_words.push(format!("{a}{b}"));
        }
        for (&(a, b, n), phrase) in phrases.iter().zip(&phrase_words) {
            // The words of a merged phrase keep only their other occurrences.
            scores.set(a, *by_count.get(a).unwrap_or(&0) as f64 * weights[a]);
            scores.set(b, *by_count.get(b).unwrap_or(&0) as f64 * weights[b]);
            // `weights.get(phrase) or table.get(phrase) or max(table.get(a, median), table.get(b, median))`
            let known = weights.get(phrase.as_str()).copied().filter(|&w| w != 0.0);
            let listed = self.idf.get(phrase.as_str()).copied().filter(|&w| w != 0.0);
            let idf = known.or(listed).unwrap_or_else(|| {
                let (ia, ib) = (self.table_or_median(a), self.table_or_median(b));
                if ib > ia {
                    ib
                } else {
                    ia
                }
            });
            let before = scores.get(phrase).copied().unwrap_or(0.0);
            scores.set(phrase.as_str(), before + n as f64 * idf);
        }

        // Highest score first; a stable sort leaves ties in order of first occurrence.
        let mut ranked: Vec<(&str, f64)> = scores.items.clone();
        ranked.sort_by(|x, y| y.1.partial_cmp(&x.1).unwrap_or(std::cmp::Ordering::Equal));
        let keep = slice_end(ranked.len(), limit.saturating_add(self.spare));
        let ordered: Vec<&str> = ranked[..keep].iter().filter(|&&(_, s)| s > 0.0).map(|&(w, _)| w).collect();

        // `_without_fragments`: a word is part of another when it occurs more than once in all of them
        // joined by NULs.
        let all = ordered.join("\0");
        let whole: Vec<&str> = ordered.into_iter().filter(|w| count(&all, w) == 1).collect();
        let end = slice_end(whole.len(), limit);
        whole[..end].iter().map(|w| (*w).to_owned()).collect()
    }
}

#[pymethods]
impl Keywords {
    /// Build the step. `letters` and `digits` are code point ranges `[start, end)`; `ascii_lower` maps the
    /// characters outside ASCII whose lowercase is ASCII; `terms` are added to the segmenter's dictionary
    /// in order, each only when it is not already known (as `pipeline.tagging.segmenter_terms` does).
    #[new]
    #[pyo3(signature = (*, terms, idf_path, chinese, english, letters, digits, ascii_lower,
        phrase_min_count, phrase_min_share, phrase_max_chars, phrase_candidates, spare))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        terms: Vec<String>,
        idf_path: PathBuf,
        chinese: StdHashSet<String>,
        english: StdHashSet<String>,
        letters: Vec<(u32, u32)>,
        digits: Vec<(u32, u32)>,
        ascii_lower: StdHashMap<char, String>,
        phrase_min_count: usize,
        phrase_min_share: f64,
        phrase_max_chars: usize,
        phrase_candidates: usize,
        spare: isize,
    ) -> PyResult<Self> {
        if !english.iter().all(|w| w.is_ascii()) {
            return Err(PyValueError::new_err("the English stopwords must be ASCII"));
        }
        if !ascii_lower.values().all(|w| w.is_ascii()) {
            return Err(PyValueError::new_err("ascii_lower must map to ASCII"));
        }
        let (idf, median) = read_idf(&idf_path)?;
        let letters = CharSet::from_ranges(&letters)?;
        let digits = CharSet::from_ranges(&digits)?;
        let (jieba, terms_added) = py.detach(move || {
            let mut jieba = Jieba::new();
            let mut added = Vec::new();
            for term in terms {
                if !term.is_empty() && !jieba.has_word(&term) {
                    jieba.add_word(&term, None, None);
                    added.push(term);
                }
            }
            (jieba, added)
        });
        Ok(Self {
            jieba,
            idf,
            median,
            chinese: chinese.into_iter().collect(),
            english: english.into_iter().collect(),
            letters,
            digits,
            ascii_lower: ascii_lower.into_iter().collect(),
            phrase_min_count,
            phrase_min_share,
            phrase_max_chars,
            phrase_candidates,
            spare,
            terms_added,
        })
    }

    /// How many words the IDF table holds, and its median (to check them against Python's reading).
    #[getter]
    fn idf_summary(&self) -> (usize, f64) {
        (self.idf.len(), self.median)
    }

    /// The terms the segmenter did not know and was taught, in order.
    #[getter]
    fn terms_added(&self) -> Vec<String> {
        self.terms_added.clone()
    }

    /// The segmenter's cut of `text` (what `rjieba.cut` returns for the same dictionary).
    fn segment(&self, py: Python<'_>, text: &str) -> Vec<String> {
        py.detach(|| self.jieba.cut(text, true).into_iter().map(|t| t.word.to_owned()).collect())
    }

    /// The top `limit` keywords of a Chinese text, as `pipeline.tagging.chinese_keywords` ranks them.
    fn chinese_keywords(&self, py: Python<'_>, text: &str, limit: isize) -> Vec<String> {
        py.detach(|| self.keywords(text, limit))
    }
}

#[pymodule]
fn newsflow_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Keywords>()?;
    m.add_class::<sketch::Sketcher>()?;
    Ok(())
}
