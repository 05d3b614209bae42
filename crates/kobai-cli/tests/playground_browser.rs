//! The playground page in a real browser: Debian's Chromium, headless, driven
//! over the DevTools protocol against `kobai serve --port 0`. Screenshots of
//! each state go to `target/playground/` (look at them).
//!
//! Without a Chromium these tests say so and pass, except under `CI=true`,
//! where a missing browser is a lost install step and fails.

use headless_chrome::Tab;

mod common;
use common::Server;
use common::browser::{assert_no_errors, browser, eval, open_page, screenshot, wait_for};

/// Waits for the animation to end (the page marks it on `body`).
fn drawn(tab: &Tab, after: &str) -> String {
    wait_for(
        tab,
        &format!(
            "(document.body.dataset.drawn || '') !== '{after}' && (document.body.dataset.drawn || '') !== ''"
        ),
    );
    eval(tab, "document.body.dataset.drawn")
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn canvas_pixels(tab: &Tab) -> String {
    eval(tab, "document.getElementById('canvas').toDataURL()")
        .as_str()
        .expect("a data URL")
        .to_string()
}

#[test]
fn the_descent_page_loads_draws_paths_shows_errors_and_keeps_its_state_in_the_url() {
    let Some(browser) = browser() else {
        return;
    };
    let server = Server::start();
    let (tab, errors) = open_page(&browser, &server.url);
    let first = drawn(&tab, "");
    screenshot(&tab, "1-loaded");
    assert_no_errors(&errors);
    assert_eq!(
        eval(&tab, "document.querySelectorAll('#table tbody tr').length"),
        3
    );
    // The error-against-step plot is drawn (some pixels are not blank).
    wait_for(
        &tab,
        "(() => { const c = document.getElementById('sweep'); \
         const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
         for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true; return false; })()",
    );

    // A click on the plot sets the start and draws new paths.
    let before = canvas_pixels(&tab);
    tab.evaluate(
        "(() => { const c = document.getElementById('canvas'); const r = c.getBoundingClientRect();
          c.dispatchEvent(new MouseEvent('click', { clientX: r.left + r.width * 0.8, clientY: r.top + r.height * 0.25, bubbles: true })); })()",
        false,
    )
    .expect("clicked");
    let second = drawn(&tab, &first);
    screenshot(&tab, "2-clicked");
    assert_ne!(canvas_pixels(&tab), before, "the click drew other paths");
    let url = tab.get_url();
    assert!(!url.contains("start=-2.5%2C2"), "the start moved: {url}");
    assert_no_errors(&errors);

    // A bad formula shows the server's message on the page.
    tab.evaluate(
        "(() => { const f = document.getElementById('formula'); f.value = 'x0^2 +'; f.dispatchEvent(new Event('change')); })()",
        false,
    )
    .expect("typed");
    wait_for(&tab, "!document.getElementById('error').hidden");
    let message = eval(&tab, "document.getElementById('error').textContent");
    assert!(
        message
            .as_str()
            .unwrap_or_default()
            .contains("cannot read formula"),
        "{message}"
    );
    screenshot(&tab, "3-bad-formula");
    let _ = second;

    // The URL reproduces a view: two loads of one link draw the same pixels.
    let link = format!(
        "{}?f=x%5E2%2F20%20%2B%20y%5E2&x0=-10%2C10&x1=-5%2C5&start=-7%2C2&steps=60&opt=sgd%3A0.95%2Cadam%3A0.3",
        server.url
    );
    let mut views = Vec::new();
    for k in 0..2 {
        let (tab, _) = open_page(&browser, &link);
        drawn(&tab, "");
        assert_eq!(
            eval(&tab, "document.getElementById('formula').value"),
            "x^2/20 + y^2"
        );
        assert_eq!(
            eval(&tab, "document.getElementById('on-adam').checked"),
            true
        );
        assert_eq!(
            eval(&tab, "document.getElementById('on-momentum').checked"),
            false
        );
        views.push(canvas_pixels(&tab));
        screenshot(&tab, &format!("4-link-{k}"));
    }
    assert_eq!(views[0], views[1], "the same link, the same picture");
}
