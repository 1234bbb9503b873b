//! LZF decompression, for the compressed strings redis-server writes
//! (`rdbcompression yes`, strings longer than 20 bytes). The format is
//! liblzf's: a control byte below 32 starts a run of `ctrl + 1` literal
//! bytes; any other is a back-reference of `(ctrl >> 5) + 2` bytes (the
//! length field 7 continues in the next byte) at distance
//! `((ctrl & 0x1f) << 8) + next + 1`. This node never compresses.

/// Decompresses `input` into exactly `len` bytes.
pub fn decompress(input: &[u8], len: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(len);
    let mut i = 0;
    let byte = |i: usize| {
        input
            .get(i)
            .copied()
            .ok_or_else(|| "LZF data ends inside a sequence".to_string())
    };
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input
                .get(i..i + run)
                .ok_or_else(|| "LZF literal run past the end".to_string())?;
            out.extend_from_slice(lit);
            i += run;
        } else {
            let mut n = ctrl >> 5;
            if n == 7 {
                n += byte(i)? as usize;
                i += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + byte(i)? as usize + 1;
            i += 1;
            let start = out
                .len()
                .checked_sub(back)
                .ok_or_else(|| "LZF reference before the start".to_string())?;
            // Byte by byte: a reference may overlap what it produces.
            for k in 0..n + 2 {
                let b = out[start + k];
                out.push(b);
            }
        }
        if out.len() > len {
            return Err(format!("LZF data longer than the {len} bytes announced"));
        }
    }
    if out.len() != len {
        return Err(format!(
            "LZF data gives {} bytes, {len} announced",
            out.len()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_overlapping_references_expand() {
        // "abc" literal, then a reference of 2+2 bytes at distance 3: "abca".
        let data = [2, b'a', b'b', b'c', 2 << 5, 2];
        assert_eq!(decompress(&data, 7).as_deref(), Ok(&b"abcabca"[..]));
        // A run of one byte repeated: distance 1, length 7 + 3 + 2 = 12.
        let data = [0, b'x', 7 << 5, 3, 0];
        assert_eq!(decompress(&data, 13).map(|v| v.len()), Ok(13));
        assert!(decompress(&data, 12).is_err(), "a wrong length is an error");
        assert!(
            decompress(&[1 << 5, 9], 3).is_err(),
            "a reference before the start"
        );
        assert!(decompress(&[5, b'a'], 6).is_err(), "a run past the end");
    }
}
