//! Progress of a migration: a bar per collection on a terminal (indicatif), plain log lines
//! otherwise (pipes, CI logs), nothing with `--quiet`.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How often plain log lines are written.
const LOG_EVERY: Duration = Duration::from_secs(1);

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Bars on stderr.
    Bars,
    /// One line per second per collection on stderr.
    Lines,
    /// Nothing.
    Quiet,
}

impl Style {
    /// Bars when stderr is a terminal, else lines; `quiet` silences both.
    pub fn detect(quiet: bool) -> Self {
        if quiet {
            Self::Quiet
        } else if std::io::stderr().is_terminal() {
            Self::Bars
        } else {
            Self::Lines
        }
    }
}

/// Progress of one collection.
pub struct CollectionProgress {
    style: Style,
    name: String,
    total: u64,
    done: u64,
    bar: Option<ProgressBar>,
    last_line: Instant,
}

impl CollectionProgress {
    /// Starts reporting `total` documents of `name`.
    pub fn start(style: Style, name: &str, total: u64) -> Self {
        let bar = (style == Style::Bars).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>16} [{bar:30}] {pos}/{len} docs {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(name.to_string());
            bar
        });
        if style == Style::Lines {
            eprintln!("{name}: 0/{total} documents");
        }
        Self {
            style,
            name: name.to_string(),
            total,
            done: 0,
            bar,
            last_line: Instant::now(),
        }
    }

    /// Adds `n` copied documents.
    pub fn advance(&mut self, n: u64) {
        self.done += n;
        if let Some(bar) = &self.bar {
            bar.set_position(self.done);
        } else if self.style == Style::Lines && self.last_line.elapsed() >= LOG_EVERY {
            eprintln!("{}: {}/{} documents", self.name, self.done, self.total);
            self.last_line = Instant::now();
        }
    }

    /// Ends the collection's report.
    pub fn finish(self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        } else if self.style == Style::Lines {
            eprintln!(
                "{}: {}/{} documents, done",
                self.name, self.done, self.total
            );
        }
    }
}
