//! The capabilities the app's logic uses, behind one small trait: in the component they
//! are the `marcus:platform` imports; in the app's own unit tests an in-memory board, so
//! the board logic (claims, the unit of work, the read cache) is tested natively, without a
//! host. The clock and randomness are part of it, so tests control time. Edge routes that only pass a request through to a capability (raw storage, cache,
//! realtime, capabilities) call the imports directly.

mod calls;
mod imports;
#[cfg(test)]
pub mod in_memory;

pub use calls::Platform;

/// The platform this request runs on.
#[cfg(not(test))]
pub fn current() -> &'static dyn Platform {
    &imports::Imports
}

#[cfg(test)]
thread_local! {
    static INSTALLED: std::cell::RefCell<Option<&'static dyn Platform>> =
        const { std::cell::RefCell::new(None) };
}

/// The platform this test runs on: the one [`install`]ed on this thread.
#[cfg(test)]
pub fn current() -> &'static dyn Platform {
    INSTALLED.with(|p| {
        p.borrow()
            .expect("a unit test calls platform::install before using the platform")
    })
}

/// Makes `platform` this thread's platform (each test runs on its own thread).
#[cfg(test)]
pub fn install(platform: &'static dyn Platform) {
    INSTALLED.with(|p| *p.borrow_mut() = Some(platform));
}
