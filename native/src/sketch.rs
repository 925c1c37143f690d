//! The shingle hashes and sketches of story fingerprints (`pipeline.stories.sketch`) in Rust.
//!
//! The numpy path stays the reference; this computes the same values step by step, in the same integer
//! widths with the same wrap-around: the lowercase table, the cuts, the word hashes (u64), the shingle
//! hashes (u32), the bottom-k and the densified bins. Every table and constant is handed over by Python
//! when it builds a `Sketcher`, so the two cannot drift apart by an edit on one side.

use pyo3::exceptions::{PyUnicodeEncodeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

/// The sketching step, built once per process from `pipeline.stories.sketch`'s tables and constants.
#[pyclass(frozen)]
pub struct Sketcher {
    /// `_LOWER`: for each code point below its length, the kept lowercase code point or 0.
    lower: Vec<u16>,
    cjk_from: u32,
    max_chars: usize,
    max_cjk_chars: usize,
    max_tokens: usize,
    /// `_POWERS` and `_INVERSES` (as long as `max_chars`).
    powers: Vec<u64>,
    inverses: Vec<u64>,
    m1: u64,
    s32: u32,
    word_tag: u32,
    h: [u32; 4],
    /// `_BIN_STARTS`: equal ranges of the hash space, a power of two of them; a hash's bin is its top bits.
    bin_starts: Vec<u32>,
    bin_shift: u32,
    bottom_k: usize,
    bands: usize,
    rows: usize,
}

/// Little-endian values of a `bytes` of `width`-byte items.
fn items(bytes: &[u8], width: usize, name: &str) -> PyResult<Vec<[u8; 8]>> {
    if !bytes.len().is_multiple_of(width) {
        return Err(PyValueError::new_err(format!("{name}: {} bytes is not a whole number of items", bytes.len())));
    }
    Ok(bytes
        .chunks_exact(width)
        .map(|chunk| {
            let mut item = [0u8; 8];
            item[..width].copy_from_slice(chunk);
            item
        })
        .collect())
}

impl Sketcher {
    /// How many code points of a text are read: `_MAX_CJK_CHARS` for a text known to be CJK, else `_MAX_CHARS`.
    fn cut(&self, cjk: Option<bool>) -> usize {
        if cjk == Some(true) {
            self.max_cjk_chars
        } else {
            self.max_chars
        }
    }

    /// `_LOWER.take(code points of "".join(parts)[:cut], mode="clip")`. The code points are copied out of
    /// each string as UCS-4 (never the whole text: a string longer than what is left of the cut is cut
    /// first), without the UTF-8 copy a `&str` would make of all of it. A surrogate among them is refused
    /// as `str.encode` refuses it (the numpy path encodes the same characters as UTF-32).
    fn codes(&self, parts: &[Bound<'_, PyString>], cut: usize) -> PyResult<Vec<u16>> {
        let last = self.lower.len() - 1;
        let mut codes: Vec<u16> = Vec::with_capacity(cut);
        let mut points: Vec<u32> = Vec::new();
        for part in parts {
            let left = cut - codes.len();
            if left == 0 {
                break;
            }
            let read = ucs4_prefix(part, left, &mut points)?;
            let mut surrogates = false;
            codes.extend(points.iter().map(|&point| {
                surrogates |= point & 0xFFFF_F800 == 0xD800;
                self.lower[(point as usize).min(last)]
            }));
            if surrogates {
                let at = points.iter().position(|&point| point & 0xFFFF_F800 == 0xD800).unwrap_or(0);
                return Err(PyUnicodeEncodeError::new_err((
                    "utf-32-le",
                    read.unbind(),
                    at,
                    at + 1,
                    "surrogates not allowed",
                )));
            }
        }
        Ok(codes)
    }

    /// The `None` rule of `_tokens`: CJK when at least half the kept characters are.
    fn mostly_cjk(&self, codes: &[u16]) -> bool {
        let (mut kept, mut wide) = (0usize, 0usize);
        for &code in codes {
            kept += usize::from(code != 0);
            wide += usize::from(u32::from(code) >= self.cjk_from);
        }
        wide * 2 >= kept
    }

    /// `_tokens` of the codes, read as CJK (one token per kept character) or not.
    fn tokens(&self, codes: &[u16], cjk: bool) -> Vec<u32> {
        let mut tokens: Vec<u32> = Vec::with_capacity(self.max_tokens.min(codes.len()));
        if cjk {
            for &code in codes {
                if tokens.len() >= self.max_tokens {
                    break;
                }
                if code != 0 {
                    tokens.push(u32::from(code));
                }
            }
            return tokens;
        }
        // A word's value: the sum of its code points times POLY^position, times POLY^-start, times M1, top
        // 32 bits, tagged; it takes the place of the word's first character. CJK characters stay as they are.
        let mut word: Option<(usize, u64)> = None; // start, sum so far
        for (position, &code) in codes.iter().enumerate() {
            let code = u32::from(code);
            if code != 0 && code < self.cjk_from {
                let (start, sum) = word.unwrap_or((position, 0));
                word = Some((start, sum.wrapping_add(u64::from(code).wrapping_mul(self.powers[position]))));
                continue;
            }
            if let Some((start, sum)) = word.take() {
                tokens.push(self.word_hash(start, sum));
            }
            if tokens.len() >= self.max_tokens {
                break;
            }
            if code >= self.cjk_from {
                tokens.push(code);
            }
            if tokens.len() >= self.max_tokens {
                break;
            }
        }
        if let Some((start, sum)) = word {
            tokens.push(self.word_hash(start, sum));
        }
        tokens.truncate(self.max_tokens);
        tokens
    }

    #[inline]
    fn word_hash(&self, start: usize, sum: u64) -> u32 {
        (sum.wrapping_mul(self.inverses[start]).wrapping_mul(self.m1) >> self.s32) as u32 | self.word_tag
    }

    /// The shingle hashes of the text the codes were read from, in the text's order (`shingle_hashes` sorts
    /// them).
    fn hashes(&self, codes: &[u16], cjk: Option<bool>) -> Vec<u32> {
        let tokens = self.tokens(codes, cjk.unwrap_or_else(|| self.mostly_cjk(codes)));
        let [h0, h1, h2, h3] = self.h;
        match tokens.len() {
            0 => Vec::new(),
            1 | 2 => {
                let n = tokens.len() as u32;
                vec![(tokens[0].wrapping_mul(h0).wrapping_add(n) ^ tokens[n as usize - 1]).wrapping_mul(h3)]
            }
            _ => tokens
                .windows(3)
                .map(|w| (w[0].wrapping_mul(h0) ^ w[1].wrapping_mul(h1) ^ w[2].wrapping_mul(h2)).wrapping_mul(h3))
                .collect(),
        }
    }

    /// What the numpy path reads from the sorted hashes (their distinct count, `_bottom`, `_bins`), without
    /// sorting them all:
    /// - the distinct hashes, through an open-addressing table of about four slots per hash (a hash's slot is
    ///   its top bits: hashes are spread evenly; 0 marks a free slot, so a hash 0 is noted apart). The loop
    ///   branches only when a slot holds another hash, which is rare at that size: a repeated hash and a new
    ///   one cost the same;
    /// - per bin, the smallest hash and how many distinct ones it has;
    /// - the bottom-k: the distinct hashes of the first bins that hold k of them (of all bins when there are
    ///   fewer), sorted, the first k.
    fn summary(&self, hashes: &[u32]) -> Summary {
        let n = hashes.len();
        let bits = (usize::BITS - n.leading_zeros() + 2).clamp(4, 24); // n is at most max_tokens, below 2^22
        let (mask, shift) = ((1usize << bits) - 1, 32 - bits);
        let mut table = vec![0u32; 1 << bits];
        let mut distinct = vec![0u32; n];
        let mut found = 0usize;
        let mut zero = false;
        for &h in hashes {
            let mut slot = (h >> shift) as usize;
            let mut held = table[slot];
            // Another hash there (neither h nor free: the product is not 0): on to the next free or equal slot.
            if u64::from(held ^ h) * u64::from(held) != 0 {
                loop {
                    slot = (slot + 1) & mask;
                    held = table[slot];
                    if held == h || held == 0 {
                        break;
                    }
                }
            }
            table[slot] = h;
            distinct[found] = h; // kept when new (a free slot, and not the 0 that marks one)
            found += usize::from((held == 0) & (h != 0));
            zero |= h == 0;
        }
        distinct.truncate(found);
        if zero {
            distinct.push(0);
        }
        let bins = self.bin_starts.len();
        let mut minima = vec![u32::MAX; bins];
        let mut counts = vec![0usize; bins];
        for &h in &distinct {
            let bin = (h >> self.bin_shift) as usize;
            minima[bin] = minima[bin].min(h);
            counts[bin] += 1;
        }
        let mut below: u64 = 1 << 32; // the bottom-k are below this
        let mut seen = 0usize;
        for (bin, &count) in counts.iter().enumerate() {
            seen += count;
            if seen >= self.bottom_k {
                below = ((bin as u64) + 1) << self.bin_shift;
                break;
            }
        }
        let mut bottom = vec![0u32; distinct.len()];
        let mut taken = 0usize;
        for &h in &distinct {
            bottom[taken] = h;
            taken += usize::from(u64::from(h) < below);
        }
        bottom.truncate(taken);
        bottom.sort_unstable();
        bottom.truncate(self.bottom_k);
        let filled: Vec<bool> = counts.iter().map(|&count| count > 0).collect();
        Summary { distinct: distinct.len(), bottom, bins: self.densified(minima, &filled) }
    }

    /// `_bins` from each bin's smallest hash: an empty bin borrows the value of the next filled bin to its
    /// right (circularly), salted with the distance. Nothing filled (no hashes): the minima as they are.
    fn densified(&self, minima: Vec<u32>, filled: &[bool]) -> Vec<u32> {
        let n = minima.len();
        if filled.iter().all(|&f| f) || !filled.iter().any(|&f| f) {
            return minima;
        }
        (0..n)
            .map(|b| {
                if filled[b] {
                    return minima[b];
                }
                let source = (b..2 * n).find(|&p| filled[p % n]).unwrap_or(b); // one bin is filled
                (minima[source % n] ^ (source - b) as u32).wrapping_mul(self.h[0])
            })
            .collect()
    }

    /// `_band_keys`: `b<band>:` and the band's values as little-endian hex.
    fn band_keys(&self, bins: &[u32]) -> Vec<String> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        (0..self.bands)
            .map(|band| {
                let mut key = String::with_capacity(8 + 8 * self.rows);
                key.push('b');
                key.push_str(&band.to_string());
                key.push(':');
                for value in &bins[band * self.rows..(band + 1) * self.rows] {
                    for byte in value.to_le_bytes() {
                        key.push(HEX[usize::from(byte >> 4)] as char);
                        key.push(HEX[usize::from(byte & 15)] as char);
                    }
                }
                key
            })
            .collect()
    }

    /// What a fingerprint takes from the text `"".join(parts)`: its distinct shingles, bottom-k and band keys.
    fn sketch_of(
        &self,
        py: Python<'_>,
        parts: &[Bound<'_, PyString>],
        cjk: Option<bool>,
    ) -> PyResult<(usize, Vec<u32>, Vec<String>)> {
        let codes = self.codes(parts, self.cut(cjk))?;
        Ok(py.detach(|| {
            let hashes = self.hashes(&codes, cjk);
            if hashes.is_empty() {
                return (0, Vec::new(), Vec::new()); // no text: nothing to look up by
            }
            let summary = self.summary(&hashes);
            (summary.distinct, summary.bottom, self.band_keys(&summary.bins))
        }))
    }
}

/// What a fingerprint keeps of a text's shingle hashes: how many distinct, the bottom-k, the densified bins.
struct Summary {
    distinct: usize,
    bottom: Vec<u32>,
    bins: Vec<u32>,
}

/// The first `limit` code points of `text` in `points` (resized to hold them); returns the string they were
/// read from (`text`, or its cut copy).
fn ucs4_prefix<'py>(
    text: &Bound<'py, PyString>,
    limit: usize,
    points: &mut Vec<u32>,
) -> PyResult<Bound<'py, PyString>> {
    let py = text.py();
    let length = text.len()?;
    let read = if length > limit {
        // SAFETY: `text` is a live str; PyUnicode_Substring returns a new reference to a str, or NULL with
        // an exception set (taken by `from_owned_ptr_or_err`).
        unsafe {
            Bound::from_owned_ptr_or_err(py, ffi::PyUnicode_Substring(text.as_ptr(), 0, limit as ffi::Py_ssize_t))?
                .cast_into_unchecked::<PyString>()
        }
    } else {
        text.clone()
    };
    let count = length.min(limit);
    points.clear();
    points.resize(count, 0);
    if count == 0 {
        return Ok(read);
    }
    // SAFETY: `read` is a live str of `count` code points and `points` holds `count` items: PyUnicode_AsUCS4
    // writes at most that many (it fails rather than overrun a buffer too small), without a terminator
    // (copy_null 0).
    let copied = unsafe { ffi::PyUnicode_AsUCS4(read.as_ptr(), points.as_mut_ptr(), count as ffi::Py_ssize_t, 0) };
    if copied.is_null() {
        return Err(PyErr::fetch(py));
    }
    Ok(read)
}

#[pymethods]
impl Sketcher {
    /// Build the step. Tables are little-endian bytes: `lower` u16 items, `powers`, `inverses` u64 items,
    /// `bin_starts` u32 items; `h` the four u32 shingle constants.
    #[new]
    #[pyo3(signature = (*, lower, cjk_from, max_chars, max_cjk_chars, max_tokens, powers, inverses, m1, s32,
        word_tag, h, bin_starts, bottom_k, bands, rows))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        lower: &[u8],
        cjk_from: u32,
        max_chars: usize,
        max_cjk_chars: usize,
        max_tokens: usize,
        powers: &[u8],
        inverses: &[u8],
        m1: u64,
        s32: u32,
        word_tag: u32,
        h: [u32; 4],
        bin_starts: &[u8],
        bottom_k: usize,
        bands: usize,
        rows: usize,
    ) -> PyResult<Self> {
        let lower: Vec<u16> = items(lower, 2, "lower")?.iter().map(|b| u16::from_le_bytes([b[0], b[1]])).collect();
        let powers: Vec<u64> = items(powers, 8, "powers")?.into_iter().map(u64::from_le_bytes).collect();
        let inverses: Vec<u64> = items(inverses, 8, "inverses")?.into_iter().map(u64::from_le_bytes).collect();
        let bin_starts: Vec<u32> =
            items(bin_starts, 4, "bin_starts")?.iter().map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if lower.is_empty() {
            return Err(PyValueError::new_err("the lowercase table is empty"));
        }
        if powers.len() < max_chars || inverses.len() < max_chars {
            return Err(PyValueError::new_err("powers and inverses must cover max_chars positions"));
        }
        if max_tokens >= 1 << 22 {
            return Err(PyValueError::new_err("max_tokens must be below 2^22"));
        }
        if max_cjk_chars > max_chars {
            return Err(PyValueError::new_err("max_cjk_chars must not exceed max_chars"));
        }
        if s32 >= 64 {
            return Err(PyValueError::new_err("s32 must be a shift below 64"));
        }
        let bin_shift = 32 - bin_starts.len().trailing_zeros();
        let equal = bin_starts.len() >= 2
            && bin_starts.len().is_power_of_two()
            && bin_starts.len() <= 1 << 16
            && bin_starts.iter().enumerate().all(|(b, &start)| u64::from(start) == (b as u64) << bin_shift);
        if !equal || bands * rows > bin_starts.len() {
            return Err(PyValueError::new_err(
                "bin_starts must split the 32-bit range into equal bins (a power of two, from 2 to 2^16 of them) \
                 and hold bands * rows bins",
            ));
        }
        Ok(Self {
            lower,
            cjk_from,
            max_chars,
            max_cjk_chars,
            max_tokens,
            powers,
            inverses,
            m1,
            s32,
            word_tag,
            h,
            bin_starts,
            bin_shift,
            bottom_k,
            bands,
            rows,
        })
    }

    /// `shingle_hashes(text, cjk=cjk)`: the sorted shingle hashes (duplicates kept).
    #[pyo3(signature = (text, cjk=None))]
    fn shingle_hashes(&self, py: Python<'_>, text: Bound<'_, PyString>, cjk: Option<bool>) -> PyResult<Vec<u32>> {
        let codes = self.codes(&[text], self.cut(cjk))?;
        Ok(py.detach(|| {
            let mut hashes = self.hashes(&codes, cjk);
            hashes.sort_unstable();
            hashes
        }))
    }

    /// `_bins` of the text's shingle hashes (empty for a text without tokens).
    #[pyo3(signature = (text, cjk=None))]
    fn bins(&self, py: Python<'_>, text: Bound<'_, PyString>, cjk: Option<bool>) -> PyResult<Vec<u32>> {
        let codes = self.codes(&[text], self.cut(cjk))?;
        Ok(py.detach(|| {
            let hashes = self.hashes(&codes, cjk);
            if hashes.is_empty() {
                Vec::new()
            } else {
                self.summary(&hashes).bins
            }
        }))
    }

    /// What a fingerprint takes from the text: the distinct shingles, the bottom-k (ascending) and the band
    /// keys (none for a text without tokens).
    #[pyo3(signature = (text, cjk=None))]
    fn sketch<'py>(
        &self,
        py: Python<'py>,
        text: Bound<'py, PyString>,
        cjk: Option<bool>,
    ) -> PyResult<(usize, Bound<'py, PyTuple>, Bound<'py, PyTuple>)> {
        let (size, bottom, bands) = self.sketch_of(py, &[text], cjk)?;
        Ok((size, PyTuple::new(py, bottom)?, PyTuple::new(py, bands)?))
    }

    /// `sketch("".join(parts), cjk)`, without joining them.
    #[pyo3(signature = (parts, cjk=None))]
    fn sketch_joined<'py>(
        &self,
        py: Python<'py>,
        parts: Vec<Bound<'py, PyString>>,
        cjk: Option<bool>,
    ) -> PyResult<(usize, Bound<'py, PyTuple>, Bound<'py, PyTuple>)> {
        let (size, bottom, bands) = self.sketch_of(py, &parts, cjk)?;
        Ok((size, PyTuple::new(py, bottom)?, PyTuple::new(py, bands)?))
    }
}
