//! Writes spans as Zipkin v2 JSON into a file, for when no Zipkin runs.
//!
//! The file always holds one valid JSON array of spans (it is rewritten at its tail on every
//! export), so it can be read at any time: by `jq`, by [`read_spans`], or in Zipkin UI's trace
//! viewer (`/zipkin/traceViewer`, "Upload JSON"), which shows one trace per upload; select one
//! with `jq '[.[] | select(.traceId == "<id>")]' fusebox-traces.json`.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use parking_lot::Mutex;

use super::error::TelemetryError;
use super::zipkin::ZipkinMapper;

/// Closing bytes of the array; every export overwrites them.
const TAIL: &[u8] = b"\n]\n";

/// Appends exported spans to a JSON array file in Zipkin v2 format.
#[derive(Debug)]
pub struct FileExporter {
    mapper: ZipkinMapper,
    path: PathBuf,
    state: Mutex<FileState>,
}

#[derive(Debug)]
struct FileState {
    file: File,
    empty: bool,
}

impl FileExporter {
    /// Creates (truncates) the file and writes an empty array into it.
    pub fn create(path: impl Into<PathBuf>) -> Result<Self, TelemetryError> {
        let path = path.into();
        let err = |source| TelemetryError::SpanFile {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)
            .map_err(err)?;
        file.write_all(b"[").map_err(err)?;
        file.write_all(TAIL).map_err(err)?;
        Ok(Self {
            mapper: ZipkinMapper::default(),
            path,
            state: Mutex::new(FileState { file, empty: true }),
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn append(&self, batch: &[SpanData]) -> std::io::Result<()> {
        let mut out = Vec::with_capacity(batch.len() * 512);
        let mut state = self.state.lock();
        for (i, span) in batch.iter().enumerate() {
            if i > 0 || !state.empty {
                out.extend_from_slice(b",");
            }
            out.extend_from_slice(b"\n");
            serde_json::to_writer(&mut out, &self.mapper.span(span))?;
        }
        out.extend_from_slice(TAIL);
        state.file.seek(SeekFrom::End(-(TAIL.len() as i64)))?;
        state.file.write_all(&out)?;
        state.file.flush()?;
        state.empty = false;
        Ok(())
    }
}

impl SpanExporter for FileExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if batch.is_empty() {
            return Ok(());
        }
        self.append(&batch).map_err(|e| {
            OTelSdkError::InternalFailure(format!("writing {}: {e}", self.path.display()))
        })
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.mapper.set_resource(resource);
    }
}

/// Reads a span file written by [`FileExporter`] (or any JSON array of Zipkin v2 spans).
pub fn read_spans(path: impl AsRef<Path>) -> std::io::Result<Vec<serde_json::Value>> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(std::io::Error::other)
}
