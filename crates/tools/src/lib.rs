//! Tools that drive motcua from outside, as its users would: the 2019 scenario that plays a
//! month of the demo centre's work through the real router, and the data generator that
//! fills a database with realistic dossiers for benchmarks. They are not part of the
//! product (`motcua-server`); the `motcua` binary runs them on demand.

pub mod generate;
pub mod scenario;
