//! A clock a test moves by hand, and skypay-sim on loopback.

use crate::*;

/// A clock the test moves (reconciliation's limits are tested without sleeping): `sleep`
/// moves it forward and returns at once.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl ManualClock {
    pub fn at(now: chrono::DateTime<chrono::Utc>) -> std::sync::Arc<ManualClock> {
        std::sync::Arc::new(ManualClock(std::sync::Mutex::new(now)))
    }

    pub fn set(&self, now: chrono::DateTime<chrono::Utc>) {
        *self.0.lock().unwrap() = now;
    }

    pub fn advance(&self, by: chrono::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl skypay::protocol::time::Clock for ManualClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().unwrap()
    }

    fn sleep(
        &self,
        duration: std::time::Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        let by = chrono::Duration::from_std(duration).unwrap();
        Box::pin(async move { self.advance(by) })
    }
}

/// skypay-sim on loopback, playing SkyPay for the partner `config_with(extra)` describes (its
/// user and keys, and its AES key when `SKYPAY_ENCRYPTION_KEY` is among `extra`). Accepted
/// payouts stay pending; nothing is called back.
pub async fn skypay_sim(extra: &[(&str, &str)]) -> skypay_sim::Sim {
    skypay_sim_with(extra, |c| c).await
}

/// The same, with the simulator's configuration changed by `tweak`.
pub async fn skypay_sim_with(
    extra: &[(&str, &str)],
    tweak: impl FnOnce(skypay_sim::SimConfig) -> skypay_sim::SimConfig,
) -> skypay_sim::Sim {
    let config = tweak(skypay_sim::SimConfig::new(config_with(extra)));
    skypay_sim::Sim::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .expect("skypay-sim started")
}
