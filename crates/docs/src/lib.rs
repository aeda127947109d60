//! Official documents of motcua: XLSX (and later PDF) renderings.
//!
//! Everything here turns domain values from `motcua-core` into files people open in
//! office software, and back. No I/O beyond byte buffers: callers decide where files go
//! (and run the heavy work on a blocking thread, as every CPU-heavy step of the server is).

pub mod catalogue_xlsx;
pub mod dossier_xlsx;
