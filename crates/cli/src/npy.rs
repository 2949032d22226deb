//! Writing `.npy` files (format version 1.0, little-endian float32, C order).

use std::io::Write;
use std::path::Path;

/// Encodes a float32 array of `shape` as `.npy` bytes.
pub fn encode(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // magic(6) + version(2) + len(2) + header + '\n' is a multiple of 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 4 * data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for x in data {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// Writes a `.npy` file.
pub fn write(path: &Path, shape: &[usize], data: &[f32]) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(&encode(shape, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_aligned_and_data_follows() {
        let b = encode(&[2, 3, 4], &(0..24).map(|x| x as f32).collect::<Vec<_>>());
        assert_eq!(&b[..8], b"\x93NUMPY\x01\x00");
        let hlen = u16::from_le_bytes([b[8], b[9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0);
        let h = std::str::from_utf8(&b[10..10 + hlen]).unwrap_or("");
        assert!(h.contains("'shape': (2, 3, 4)") && h.contains("'<f4'") && h.ends_with('\n'));
        assert_eq!(b.len(), 10 + hlen + 24 * 4);
        assert_eq!(
            f32::from_le_bytes([
                b[10 + hlen + 4],
                b[10 + hlen + 5],
                b[10 + hlen + 6],
                b[10 + hlen + 7]
            ]),
            1.0
        );
    }
}
