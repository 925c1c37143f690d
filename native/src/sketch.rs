//! The shingle hashes and sketches of story fingerprints (`pipeline.stories.sketch`) in Rust.
//!
//! The numpy path stays the reference; this computes the same values step by step, in the same integer
//! widths with the same wrap-around: the lowercase table, the cuts, the word hashes (u64), the shingle
//! hashes (u32), the bottom-k and the densified bins. Every table and constant is handed over by Python
//! when it builds a `Sketcher`, so the two cannot drift apart by an edit on one side.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

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
    /// `_BIN_STARTS`, ascending.
    bin_starts: Vec<u32>,
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
    /// `_LOWER.take(code points of text[:cut], mode="clip")`.
    fn codes(&self, text: &str, cut: usize) -> Vec<u16> {
        let last = self.lower.len() - 1;
        let mut codes = Vec::with_capacity(cut.min(text.len()));
        for c in text.chars().take(cut) {
            codes.push(self.lower[(c as usize).min(last)]);
        }
        codes
    }

    /// `_tokens`.
    fn tokens(&self, text: &str, cjk: Option<bool>) -> Vec<u32> {
        let codes = self.codes(text, if cjk == Some(true) { self.max_cjk_chars } else { self.max_chars });
        let cjk = cjk.unwrap_or_else(|| {
            let (mut kept, mut wide) = (0usize, 0usize);
            for &code in &codes {
                if code != 0 {
                    kept += 1;
                    wide += usize::from(u32::from(code) >= self.cjk_from);
                }
            }
            wide * 2 >= kept
        });
        if cjk {
            let mut tokens: Vec<u32> = Vec::with_capacity(self.max_tokens.min(codes.len()));
            for &code in &codes {
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
        let mut tokens: Vec<u32> = Vec::with_capacity(self.max_tokens.min(codes.len()));
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

    /// `shingle_hashes`: sorted, duplicates kept.
    fn hashes(&self, text: &str, cjk: Option<bool>) -> Vec<u32> {
        let tokens = self.tokens(text, cjk);
        let [h0, h1, h2, h3] = self.h;
        let mut hashes: Vec<u32> = match tokens.len() {
            0 => return Vec::new(),
            1 | 2 => {
                let n = tokens.len() as u32;
                vec![(tokens[0].wrapping_mul(h0).wrapping_add(n) ^ tokens[n as usize - 1]).wrapping_mul(h3)]
            }
            _ => tokens
                .windows(3)
                .map(|w| (w[0].wrapping_mul(h0) ^ w[1].wrapping_mul(h1) ^ w[2].wrapping_mul(h2)).wrapping_mul(h3))
                .collect(),
        };
        radix_sort(&mut hashes);
        hashes
    }

    /// `_bins`: the smallest hash of each bin, an empty bin densified from the next filled one (circularly).
    fn densified_bins(&self, hashes: &[u32]) -> Vec<u32> {
        let n = self.bin_starts.len();
        let at: Vec<usize> = self.bin_starts.iter().map(|&s| hashes.partition_point(|&h| h < s)).collect();
        let last = hashes.len().saturating_sub(1);
        let values: Vec<u32> = at.iter().map(|&i| hashes.get(i.min(last)).copied().unwrap_or(0)).collect();
        let full: Vec<bool> = (0..n).map(|b| at[b] < at.get(b + 1).copied().unwrap_or(hashes.len())).collect();
        if full.iter().all(|&f| f) || !full.iter().any(|&f| f) {
            return values;
        }
        (0..n)
            .map(|b| {
                if full[b] {
                    return values[b];
                }
                let source = (b..2 * n).find(|&p| full[p % n]).unwrap_or(b); // one bin is filled
                (values[source % n] ^ (source - b) as u32).wrapping_mul(self.h[0])
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

    /// `_bottom`: the `bottom_k` smallest distinct values of sorted hashes.
    fn bottom(&self, hashes: &[u32]) -> Vec<u32> {
        let mut bottom: Vec<u32> = Vec::with_capacity(self.bottom_k);
        for &h in hashes {
            if bottom.len() >= self.bottom_k {
                break;
            }
            if bottom.last() != Some(&h) {
                bottom.push(h);
            }
        }
        bottom
    }
}

/// Sorts 32-bit values: four counting passes of a byte each (least significant first), a pass skipped
/// when every value has the same byte there. For a thousand hashes this takes about half the time of the
/// standard library's comparison sort (and its counts fit in 4 kB).
fn radix_sort(values: &mut Vec<u32>) {
    let mut counts = [[0u32; 256]; 4];
    for &v in values.iter() {
        for (digit, count) in counts.iter_mut().enumerate() {
            count[usize::from((v >> (8 * digit)) as u8)] += 1;
        }
    }
    let mut spare = vec![0u32; values.len()];
    for (digit, count) in counts.iter_mut().enumerate() {
        if count.iter().any(|&n| n as usize == values.len()) {
            continue;
        }
        let mut at = 0u32;
        for n in count.iter_mut() {
            (*n, at) = (at, at + *n);
        }
        for &v in values.iter() {
            let slot = &mut count[usize::from((v >> (8 * digit)) as u8)];
            spare[*slot as usize] = v;
            *slot += 1;
        }
        std::mem::swap(values, &mut spare);
    }
}

/// Distinct values of sorted hashes.
fn distinct(hashes: &[u32]) -> usize {
    if hashes.is_empty() {
        0
    } else {
        1 + hashes.windows(2).filter(|w| w[0] != w[1]).count()
    }
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
        if max_cjk_chars > max_chars {
            return Err(PyValueError::new_err("max_cjk_chars must not exceed max_chars"));
        }
        if s32 >= 64 {
            return Err(PyValueError::new_err("s32 must be a shift below 64"));
        }
        if bin_starts.is_empty() || bin_starts.windows(2).any(|w| w[0] >= w[1]) || bands * rows > bin_starts.len() {
            return Err(PyValueError::new_err("bin_starts must be ascending and hold bands * rows bins"));
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
            bottom_k,
            bands,
            rows,
        })
    }

    /// `shingle_hashes(text, cjk=cjk)`: the sorted shingle hashes (duplicates kept).
    #[pyo3(signature = (text, cjk=None))]
    fn shingle_hashes(&self, py: Python<'_>, text: &str, cjk: Option<bool>) -> Vec<u32> {
        py.detach(|| self.hashes(text, cjk))
    }

    /// `_bins` of the text's shingle hashes (empty for a text without tokens).
    #[pyo3(signature = (text, cjk=None))]
    fn bins(&self, py: Python<'_>, text: &str, cjk: Option<bool>) -> Vec<u32> {
        py.detach(|| {
            let hashes = self.hashes(text, cjk);
            if hashes.is_empty() {
                Vec::new()
            } else {
                self.densified_bins(&hashes)
            }
        })
    }

    /// What a fingerprint takes from the text: the distinct shingles, the bottom-k (ascending) and the band
    /// keys (none for a text without tokens).
    #[pyo3(signature = (text, cjk=None))]
    fn sketch<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        cjk: Option<bool>,
    ) -> PyResult<(usize, Bound<'py, PyTuple>, Bound<'py, PyTuple>)> {
        let (size, bottom, bands) = py.detach(|| {
            let hashes = self.hashes(text, cjk);
            let bands = if hashes.is_empty() { Vec::new() } else { self.band_keys(&self.densified_bins(&hashes)) };
            (distinct(&hashes), self.bottom(&hashes), bands)
        });
        Ok((size, PyTuple::new(py, bottom)?, PyTuple::new(py, bands)?))
    }
}
