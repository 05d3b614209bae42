//! A headless Chromium for the page tests: Debian's `chromium` (or
//! `KOBAI_CHROMIUM`), driven over the DevTools protocol.
//!
//! Without a Chromium the tests say so and pass, except under `CI=true`,
//! where a missing browser is a lost install step and fails.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Log::LogEntryLevel;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::{Browser, LaunchOptions, Tab};

/// The system's Chromium, if there is one.
pub fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("KOBAI_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| {
            std::env::var_os("PATH")
                .map(|p| {
                    std::env::split_paths(&p)
                        .map(|d| d.join(name))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .find(|p| p.is_file())
}

/// A headless browser, or `None` (with a message) where there is none and
/// this is not CI.
pub fn browser() -> Option<Browser> {
    let Some(path) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but no chromium: .ci/run must install it (apt-get install chromium)"
        );
        eprintln!("skipped: no chromium on PATH (apt-get install chromium, or set KOBAI_CHROMIUM)");
        return None;
    };
    let options = LaunchOptions::default_builder()
        .path(Some(path))
        .sandbox(false)
        .headless(true)
        .window_size(Some((1200, 1350)))
        .idle_browser_timeout(Duration::from_secs(120))
        .build()
        .expect("launch options");
    Some(Browser::new(options).expect("chromium starts"))
}

/// Every console error and uncaught exception of `tab`, as text.
pub fn collect_errors(tab: &Tab) -> Arc<Mutex<Vec<String>>> {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&errors);
    tab.enable_log().expect("log domain");
    tab.enable_runtime().expect("runtime domain");
    tab.add_event_listener(Arc::new(move |event: &Event| {
        let text = match event {
            Event::LogEntryAdded(e) if e.params.entry.level == LogEntryLevel::Error => {
                Some(e.params.entry.text.clone())
            }
            Event::RuntimeExceptionThrown(e) => Some(e.params.exception_details.text.clone()),
            _ => None,
        };
        if let Some(text) = text {
            sink.lock().expect("not poisoned").push(text);
        }
    }))
    .expect("listener");
    errors
}

/// The value of a JavaScript expression, as JSON.
pub fn eval(tab: &Tab, expression: &str) -> serde_json::Value {
    tab.evaluate(expression, true)
        .expect("evaluates")
        .value
        .unwrap_or(serde_json::Value::Null)
}

/// Waits until `expression` is true (the page is asynchronous).
pub fn wait_for(tab: &Tab, expression: &str) {
    let started = Instant::now();
    while eval(tab, expression) != serde_json::Value::Bool(true) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out waiting for {expression}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Writes a PNG of `tab` to `target/playground/NAME.png`.
pub fn screenshot(tab: &Tab, name: &str) {
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("a screenshot");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../playground");
    std::fs::create_dir_all(&dir).expect("folder");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("written");
}

/// A new tab of `browser` that has loaded `url`, and the console errors it
/// has shown since before it started loading.
pub fn open_page(browser: &Browser, url: &str) -> (Arc<Tab>, Arc<Mutex<Vec<String>>>) {
    let tab = browser.new_tab().expect("a tab");
    let errors = collect_errors(&tab);
    tab.navigate_to(url).expect("navigates");
    tab.wait_until_navigated().expect("loaded");
    (tab, errors)
}

/// Fails, listing them, if the page showed console errors.
pub fn assert_no_errors(errors: &Mutex<Vec<String>>) {
    let errors = errors.lock().expect("not poisoned");
    assert!(errors.is_empty(), "console errors: {errors:?}");
}
