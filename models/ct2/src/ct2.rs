//! Reading CTranslate2's `model.bin`: one pass over the headers builds an index of variables
//! (name, shape, element type, where the bytes are), then single variables are read on demand,
//! so converting never holds more than one source tensor in memory.
//!
//! The layout, all little-endian, is what `ModelSpec._serialize` in CTranslate2's
//! `python/ctranslate2/specs/model_spec.py` writes (and `src/models/model.cc` reads):
//!
//! ```text
//! u32 binary_version
//! string spec_name, u32 spec_revision                  (binary_version >= 2)
//! u32 n_variables, then per variable:
//!     string name, u8 rank, u32 dims[rank], u8 dtype id, u32 n_bytes, n_bytes of data
//! u32 n_aliases, then per alias: string alias, string target
//! ```
//!
//! A string is a u16 length that counts a trailing NUL, then that many bytes. There is no
//! magic number: the binary version is the first thing, so "is this CTranslate2?" is answered
//! by checking the version, the spec name and that every length fits in the file.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use half::slice::HalfFloatSliceExt;

use crate::error::ConvertError;

/// The only binary version any CTranslate2 Whisper model has been written with: version 6
/// (CTranslate2 2.24, which added `config.json`) predates Whisper support (3.0).
pub(crate) const BINARY_VERSION: u32 = 6;
/// WhisperSpec revisions 1 to 3 differ only in `config.json` fields and the activation enum,
/// never in the variables this converter reads.
pub(crate) const MAX_WHISPER_REVISION: u32 = 3;
const MAX_RANK: usize = 8;

/// Element types, numbered as CTranslate2's `DataType` enum (`include/ctranslate2/types.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl DType {
    fn from_id(id: u8) -> Option<DType> {
        Some(match id {
            0 => DType::F32,
            1 => DType::I8,
            2 => DType::I16,
            3 => DType::I32,
            4 => DType::F16,
            5 => DType::BF16,
            _ => return None,
        })
    }

    fn size(self) -> u64 {
        match self {
            DType::I8 => 1,
            DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::F32 | DType::I32 => 4,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
        }
    }
}

#[derive(Debug, Clone)]
struct VarInfo {
    shape: Vec<usize>,
    dtype: DType,
    offset: u64,
    n_bytes: u64,
}

/// A variable's values as floats, in the narrowest form that holds them exactly.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Values {
    /// Half-precision values, kept as the file's little-endian bytes: copying them through
    /// untouched is what makes float16 conversions exact (and fast).
    F16(Vec<u8>),
    F32(Vec<f32>),
}

/// A borrowed run of [`Values`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum ValuesRef<'a> {
    F16(&'a [u8]),
    F32(&'a [f32]),
}

impl Values {
    pub(crate) fn len(&self) -> usize {
        match self {
            Values::F16(b) => b.len() / 2,
            Values::F32(v) => v.len(),
        }
    }

    /// Elements `start..end`.
    pub(crate) fn slice(&self, start: usize, end: usize) -> ValuesRef<'_> {
        match self {
            Values::F16(b) => ValuesRef::F16(&b[2 * start..2 * end]),
            Values::F32(v) => ValuesRef::F32(&v[start..end]),
        }
    }
}

/// Widens little-endian f16 bytes to f32 (exactly), in the `half` crate's vectorised loop.
pub(crate) fn f16_bytes_to_f32(bytes: &[u8]) -> Vec<f32> {
    let halves: Vec<half::f16> = bytemuck::pod_collect_to_vec(bytes);
    let mut out = vec![0f32; halves.len()];
    halves.convert_to_f32_slice(&mut out);
    out
}

/// One variable read from `model.bin`, turned into floats.
#[derive(Debug, Clone)]
pub(crate) struct Tensor {
    pub(crate) values: Values,
    /// The type it was stored as.
    pub(crate) source: DType,
}

/// An opened `model.bin` with its variable index.
#[derive(Debug)]
pub(crate) struct Ct2Model {
    path: PathBuf,
    file: File,
    vars: HashMap<String, VarInfo>,
    aliases: HashMap<String, String>,
}

impl Ct2Model {
    /// Walks the headers of `path`, checking every length against the file size before
    /// trusting it.
    pub(crate) fn open(path: &Path) -> Result<Ct2Model, ConvertError> {
        let file = File::open(path).map_err(|e| ConvertError::io("open", path, e))?;
        let len = file
            .metadata()
            .map_err(|e| ConvertError::io("read", path, e))?
            .len();
        let mut r = HeaderReader {
            path,
            inner: BufReader::new(file),
            pos: 0,
            len,
        };

        let version = r.u32("the binary version")?;
        if version != BINARY_VERSION {
            return Err(not_ct2_or_version(path, version));
        }
        let spec = r.string("the spec name")?;
        if spec != "WhisperSpec" {
            return Err(ConvertError::NotWhisper {
                path: path.to_owned(),
                spec,
            });
        }
        let spec_revision = r.u32("the spec revision")?;
        if spec_revision > MAX_WHISPER_REVISION {
            return Err(ConvertError::UnsupportedRevision {
                path: path.to_owned(),
                found: spec_revision,
                supported: MAX_WHISPER_REVISION,
            });
        }

        let count_at = r.pos;
        let n_vars = r.u32("the variable count")?;
        // Each variable needs at least a 1-byte name, its NUL, rank, dtype and byte count.
        if u64::from(n_vars) * 9 > len - r.pos {
            return Err(r.corrupt(
                count_at,
                format!("a count of {n_vars} variables cannot fit in the rest of the file"),
            ));
        }
        // Real models have a few hundred variables; the count only bounds the loop.
        let mut vars = HashMap::with_capacity((n_vars as usize).min(4096));
        for _ in 0..n_vars {
            let at = r.pos;
            let name = r.string("a variable name")?;
            let rank = usize::from(r.u8("a variable rank")?);
            if rank > MAX_RANK {
                return Err(r.corrupt(at, format!("variable {name} has rank {rank}")));
            }
            let mut shape = Vec::with_capacity(rank);
            for _ in 0..rank {
                shape.push(r.u32("a variable dimension")? as usize);
            }
            let dtype_id = r.u8("a variable type")?;
            let dtype = DType::from_id(dtype_id).ok_or_else(|| {
                r.corrupt(
                    at,
                    format!("variable {name} has unknown type id {dtype_id}"),
                )
            })?;
            let n_bytes = u64::from(r.u32("a variable byte count")?);
            let elements = shape
                .iter()
                .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
            if elements.and_then(|n| n.checked_mul(dtype.size())) != Some(n_bytes) {
                return Err(r.corrupt(
                    at,
                    format!(
                        "variable {name} of shape {shape:?} and type {} claims {n_bytes} bytes",
                        dtype.name()
                    ),
                ));
            }
            let offset = r.pos;
            r.skip(n_bytes, &format!("the data of {name}"))?;
            if vars
                .insert(
                    name.clone(),
                    VarInfo {
                        shape,
                        dtype,
                        offset,
                        n_bytes,
                    },
                )
                .is_some()
            {
                return Err(r.corrupt(at, format!("variable {name} appears twice")));
            }
        }

        let n_aliases = r.u32("the alias count")?;
        if u64::from(n_aliases) * 6 > len - r.pos {
            return Err(r.corrupt(
                r.pos,
                format!("a count of {n_aliases} aliases cannot fit in the rest of the file"),
            ));
        }
        let mut aliases = HashMap::new();
        for _ in 0..n_aliases {
            let at = r.pos;
            let alias = r.string("an alias name")?;
            let target = r.string("an alias target")?;
            if !vars.contains_key(&target) {
                return Err(r.corrupt(at, format!("alias {alias} names missing {target}")));
            }
            aliases.insert(alias, target);
        }
        if r.pos != len {
            return Err(r.corrupt(
                r.pos,
                format!("{} unexpected bytes at the end", len - r.pos),
            ));
        }

        Ok(Ct2Model {
            path: path.to_owned(),
            file: r.inner.into_inner(),
            vars,
            aliases,
        })
    }

    fn info(&self, name: &str) -> Option<&VarInfo> {
        let name = self.aliases.get(name).map_or(name, String::as_str);
        self.vars.get(name)
    }

    /// Whether `name` exists, directly or as an alias.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.info(name).is_some()
    }

    /// The variable `name` is stored under, following an alias.
    pub(crate) fn resolve<'a>(&'a self, name: &'a str) -> &'a str {
        self.aliases.get(name).map_or(name, String::as_str)
    }

    /// Names of all stored variables (not aliases).
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.keys().map(String::as_str)
    }

    pub(crate) fn shape(&self, name: &str) -> Result<&[usize], ConvertError> {
        Ok(&self.require(name)?.shape)
    }

    fn require(&self, name: &str) -> Result<&VarInfo, ConvertError> {
        self.info(name).ok_or_else(|| ConvertError::MissingTensor {
            name: name.to_owned(),
        })
    }

    fn raw(&mut self, name: &str) -> Result<(VarInfo, Vec<u8>), ConvertError> {
        let info = self.require(name)?.clone();
        // n_bytes was checked against the file length when the index was built, so this
        // allocation is bounded by the size of the file.
        let mut bytes = vec![0u8; info.n_bytes as usize];
        self.file
            .seek(SeekFrom::Start(info.offset))
            .and_then(|_| self.file.read_exact(&mut bytes))
            .map_err(|e| ConvertError::io("read", &self.path, e))?;
        Ok((info, bytes))
    }

    /// A scalar integer attribute such as `encoder/num_heads` (stored as int8/16/32).
    pub(crate) fn scalar_int(&mut self, name: &str) -> Result<Option<i64>, ConvertError> {
        if !self.contains(name) {
            return Ok(None);
        }
        let (info, b) = self.raw(name)?;
        Ok(match (info.dtype, info.shape.is_empty()) {
            (DType::I8, true) => Some(i64::from(b[0] as i8)),
            (DType::I16, true) => Some(i64::from(i16::from_le_bytes([b[0], b[1]]))),
            (DType::I32, true) => Some(i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
            _ => None,
        })
    }

    /// Reads `name` as floats. Half precision stays as its bit patterns; bfloat16 widens to
    /// f32 exactly; int8/int16 weights are dequantized with their `<name>_scale` the way
    /// CTranslate2 does (`value / scale`, per row for int8, one scale for int16).
    pub(crate) fn floats(&mut self, name: &str) -> Result<Tensor, ConvertError> {
        let (info, bytes) = self.raw(name)?;
        let values = match info.dtype {
            DType::F16 => Values::F16(bytes),
            DType::F32 => Values::F32(bytemuck::pod_collect_to_vec(&bytes)),
            DType::BF16 => {
                let halves: Vec<half::bf16> = bytemuck::pod_collect_to_vec(&bytes);
                let mut out = vec![0f32; halves.len()];
                halves.convert_to_f32_slice(&mut out);
                Values::F32(out)
            }
            DType::I8 | DType::I16 => Values::F32(self.dequantize(name, &info, &bytes)?),
            DType::I32 => {
                return Err(ConvertError::UnsupportedDtype {
                    name: name.to_owned(),
                    dtype: info.dtype.name(),
                    reason: "a weight stored as integers has no scale to make floats of",
                })
            }
        };
        Ok(Tensor {
            values,
            source: info.dtype,
        })
    }

    fn dequantize(
        &mut self,
        name: &str,
        info: &VarInfo,
        bytes: &[u8],
    ) -> Result<Vec<f32>, ConvertError> {
        let unsupported = |reason| ConvertError::UnsupportedDtype {
            name: name.to_owned(),
            dtype: info.dtype.name(),
            reason,
        };
        if self.contains(&format!("{name}_zero")) {
            return Err(unsupported(
                "zero-point (AWQ) quantization is not supported",
            ));
        }
        let scale_name = format!("{name}_scale");
        if !self.contains(&scale_name) {
            return Err(unsupported(
                "a quantized weight needs a scale and there is none",
            ));
        }
        let scale = self.floats(&scale_name)?;
        let scale: Vec<f32> = match scale.values {
            Values::F32(v) => v,
            Values::F16(b) => f16_bytes_to_f32(&b),
        };
        let q: Vec<f32> = match info.dtype {
            DType::I8 => bytes.iter().map(|&b| f32::from(b as i8)).collect(),
            _ => bytes
                .chunks_exact(2)
                .map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])))
                .collect(),
        };
        let rows = info.shape.first().copied().unwrap_or(1);
        if scale.len() == 1 {
            return Ok(q.iter().map(|v| v / scale[0]).collect());
        }
        if scale.len() != rows || rows == 0 {
            return Err(ConvertError::ShapeMismatch {
                name: scale_name,
                expected: vec![rows],
                found: vec![scale.len()],
            });
        }
        let row_len = q.len() / rows;
        Ok(q.chunks_exact(row_len.max(1))
            .zip(&scale)
            .flat_map(|(row, s)| row.iter().map(move |v| v / s))
            .collect())
    }
}

/// Explains a wrong first word: another model format's magic, or a version we do not read.
fn not_ct2_or_version(path: &Path, version: u32) -> ConvertError {
    let reason = match &version.to_le_bytes() {
        b"lmgg" => "it is already a whisper.cpp ggml file".to_owned(),
        b"GGUF" => "it is a GGUF file".to_owned(),
        [b'P', b'K', 3, 4] => "it is a zip archive (a PyTorch checkpoint?)".to_owned(),
        // Small numbers are binary versions; anything else is not CTranslate2 at all.
        _ if (1..1000).contains(&version) => {
            return ConvertError::UnsupportedVersion {
                path: path.to_owned(),
                found: version,
                supported: BINARY_VERSION,
            }
        }
        _ => format!("it starts with 0x{version:08x}, not a CTranslate2 binary version"),
    };
    ConvertError::NotCt2 {
        path: path.to_owned(),
        reason,
    }
}

/// Sequential reads that know their offset and never go past the end of the file.
struct HeaderReader<'a> {
    path: &'a Path,
    inner: BufReader<File>,
    pos: u64,
    len: u64,
}

impl HeaderReader<'_> {
    fn ensure(&self, needed: u64, what: &str) -> Result<(), ConvertError> {
        if self.len.saturating_sub(self.pos) < needed {
            return Err(ConvertError::Truncated {
                path: self.path.to_owned(),
                what: what.to_owned(),
                offset: self.pos,
                needed,
                len: self.len,
            });
        }
        Ok(())
    }

    fn bytes<const N: usize>(&mut self, what: &str) -> Result<[u8; N], ConvertError> {
        self.ensure(N as u64, what)?;
        let mut buf = [0u8; N];
        self.inner
            .read_exact(&mut buf)
            .map_err(|e| ConvertError::io("read", self.path, e))?;
        self.pos += N as u64;
        Ok(buf)
    }

    fn u8(&mut self, what: &str) -> Result<u8, ConvertError> {
        Ok(self.bytes::<1>(what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32, ConvertError> {
        Ok(u32::from_le_bytes(self.bytes(what)?))
    }

    fn string(&mut self, what: &str) -> Result<String, ConvertError> {
        let at = self.pos;
        let n = u16::from_le_bytes(self.bytes(what)?);
        self.ensure(u64::from(n), what)?;
        let mut buf = vec![0u8; usize::from(n)];
        self.inner
            .read_exact(&mut buf)
            .map_err(|e| ConvertError::io("read", self.path, e))?;
        self.pos += u64::from(n);
        // The length counts a trailing NUL, which C++ drops when it builds the string.
        while buf.last() == Some(&0) {
            buf.pop();
        }
        String::from_utf8(buf).map_err(|_| self.corrupt(at, format!("{what} is not UTF-8")))
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<(), ConvertError> {
        self.ensure(n, what)?;
        // Bounded by the check above, so the cast cannot wrap on 64-bit targets.
        self.inner
            .seek_relative(n as i64)
            .map_err(|e| ConvertError::io("read", self.path, e))?;
        self.pos += n;
        Ok(())
    }

    fn corrupt(&self, offset: u64, reason: String) -> ConvertError {
        ConvertError::Corrupt {
            path: self.path.to_owned(),
            offset,
            reason,
        }
    }
}
