//! What a background job is: the worker offers it every event and runs it when it wants it.
//! Adding a job is one type implementing [`Job`] plus one line in [`crate::jobs::all`].

use crate::event_message::EventMessage;

/// A unit of background work triggered by Marcus events.
pub trait Job {
    /// A short name for logs.
    fn name(&self) -> &'static str;
    /// Whether this event concerns the job.
    fn wants(&self, event: &EventMessage) -> bool;
    /// Does the work; an error is logged and makes Spin see the message as failed.
    fn run(&self, event: &EventMessage) -> Result<(), String>;
}
