//! `marcus:platform/capabilities`: the host's live report of its backends.

use super::PlatformView;
use super::bindings::marcus::platform::capabilities as wit;

impl wit::Host for PlatformView {
    async fn describe(&mut self) -> wit::Report {
        self.record_call("capabilities", "describe");
        let backends = self
            .platform
            .backends()
            .await
            .into_iter()
            .map(|(capability, s)| wit::Backend {
                capability,
                name: s.name,
                healthy: s.healthy,
                detail: s.detail,
            })
            .collect();
        wit::Report {
            host: wit::HostKind::Native,
            backends,
            environment: wit::Environment {
                kubernetes: self.platform.kubernetes,
                facts: self.platform.facts.clone(),
            },
        }
    }
}
