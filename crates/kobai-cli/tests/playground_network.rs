//! The playground's network page in a real browser (see `common::browser`):
//! it loads without console errors, training a spiral network changes the
//! decision regions' pixels and lowers the shown loss, a bad setup and a
//! diverging run show their message on the page, points can be clicked in,
//! and the link reproduces what was seen. Screenshots go to
//! `target/playground/`.

use headless_chrome::Tab;

mod common;
use common::Server;
use common::browser::{assert_no_errors, browser, eval, open_page, screenshot, wait_for};

fn heat_pixels(tab: &Tab) -> String {
    eval(tab, "document.getElementById('heat').toDataURL()")
        .as_str()
        .expect("a data URL")
        .to_string()
}

fn number(tab: &Tab, id: &str) -> f64 {
    let text = eval(tab, &format!("document.getElementById('{id}').textContent"));
    text.as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("#{id} shows a number, not {text}"))
}

fn click(tab: &Tab, id: &str) {
    tab.evaluate(&format!("document.getElementById('{id}').click()"), false)
        .expect("clicked");
}

/// Sets a control's value and fires its `change` event.
fn set(tab: &Tab, id: &str, value: &str) {
    tab.evaluate(
        &format!(
            "(() => {{ const e = document.getElementById('{id}'); e.value = '{value}'; \
             e.dispatchEvent(new Event('change')); }})()"
        ),
        false,
    )
    .expect("set");
}

const SPIRAL: &str = "network?data=spiral&points=300&noise=0&test=0.3&seed=2\
    &features=x0,x1,sin(x0),sin(x1)&hidden=12,12&activation=tanh&optimizer=adam&lr=0.01&batch=10&every=5";

#[test]
fn the_network_page_trains_shows_errors_and_keeps_its_setup_in_the_url() {
    let Some(browser) = browser() else {
        return;
    };
    let server = Server::start();
    let (tab, errors) = open_page(&browser, &format!("{}{SPIRAL}", server.url));
    wait_for(&tab, "document.body.dataset.state === 'ready'");
    screenshot(&tab, "net-1-ready");
    let (untrained, first_loss) = (heat_pixels(&tab), number(&tab, "train-loss"));
    assert_eq!(
        eval(&tab, "document.querySelectorAll('#units canvas').length"),
        24
    );
    assert_eq!(
        eval(&tab, "document.getElementById('f-sin(x0)').checked"),
        true
    );

    // Start, train a while, pause: the regions changed and the loss fell.
    click(&tab, "start");
    wait_for(&tab, "Number(document.body.dataset.epoch || 0) >= 60");
    click(&tab, "start");
    wait_for(&tab, "document.body.dataset.state === 'paused'");
    screenshot(&tab, "net-2-trained");
    let trained_loss = number(&tab, "train-loss");
    assert!(
        trained_loss < 0.7 * first_loss,
        "the shown loss fell: {first_loss} → {trained_loss}"
    );
    assert_ne!(heat_pixels(&tab), untrained, "the heat map changed");
    assert!(number(&tab, "train-acc") > 0.6);
    assert_no_errors(&errors);

    // One epoch at a time.
    let before = number(&tab, "epoch");
    click(&tab, "step");
    wait_for(
        &tab,
        &format!("Number(document.body.dataset.epoch) === {}", before + 1.0),
    );

    // A bad setup shows the server's message.
    set(&tab, "hidden", "8,100");
    wait_for(&tab, "!document.getElementById('error').hidden");
    let message = eval(&tab, "document.getElementById('error').textContent");
    assert!(
        message
            .as_str()
            .unwrap_or_default()
            .contains("from 1 to 64"),
        "{message}"
    );
    screenshot(&tab, "net-3-bad-setup");

    // A diverging run stops and says so: plain SGD with lr·λ = 100 multiplies
    // the weights by −99 each step.
    set(&tab, "hidden", "4");
    wait_for(&tab, "document.body.dataset.state === 'ready'");
    set(&tab, "l2", "10");
    wait_for(&tab, "document.body.dataset.state === 'ready'");
    set(&tab, "optimizer", "sgd");
    wait_for(&tab, "document.body.dataset.state === 'ready'");
    set(&tab, "lr", "10"); // the slider's last step: a learning rate of 10
    wait_for(&tab, "document.body.dataset.state === 'ready'");
    click(&tab, "start");
    wait_for(&tab, "!document.getElementById('error').hidden");
    let message = eval(&tab, "document.getElementById('error').textContent");
    assert!(
        message.as_str().unwrap_or_default().contains("diverged"),
        "{message}"
    );
    wait_for(
        &tab,
        "document.getElementById('start').textContent === 'start'",
    );
    screenshot(&tab, "net-4-diverged");

    // The link reproduces the setup: two loads draw the same pixels.
    let mut views = Vec::new();
    for k in 0..2 {
        let (tab, _) = open_page(&browser, &format!("{}{SPIRAL}", server.url));
        wait_for(&tab, "document.body.dataset.state === 'ready'");
        assert_eq!(
            eval(&tab, "document.getElementById('hidden').value"),
            "12,12"
        );
        assert_eq!(
            eval(&tab, "document.getElementById('optimizer').value"),
            "adam"
        );
        click(&tab, "step");
        wait_for(&tab, "document.body.dataset.epoch === '1'");
        views.push(heat_pixels(&tab));
        screenshot(&tab, &format!("net-5-link-{k}"));
    }
    assert_eq!(views[0], views[1], "the same link, the same picture");
}

#[test]
fn your_own_points_are_clicked_in_or_pasted() {
    let Some(browser) = browser() else {
        return;
    };
    let server = Server::start();
    let (tab, errors) = open_page(
        &browser,
        &format!(
            "{}network?data=custom&test=0&custom=-3,-3,0;3,3,1;-3,3,1;3,-3,0",
            server.url
        ),
    );
    wait_for(&tab, "document.body.dataset.state === 'ready'");
    let count = "net.train.length + net.test.length";
    assert_eq!(eval(&tab, count), 4);
    // A click adds a point of the chosen class where it lands.
    set(&tab, "class", "2");
    tab.evaluate(
        "(() => { const c = document.getElementById('heat'); const r = c.getBoundingClientRect();
          c.dispatchEvent(new MouseEvent('click', { clientX: r.left + r.width * 0.75, clientY: r.top + r.height * 0.25, bubbles: true })); })()",
        false,
    )
    .expect("clicked");
    wait_for(&tab, &format!("{count} === 5"));
    assert_eq!(eval(&tab, "net.classes"), 3);
    assert_eq!(
        eval(
            &tab,
            "custom[4][2] === 2 && Math.hypot(custom[4][0] - 3, custom[4][1] - 3) < 0.1"
        ),
        true,
        "a point of class 2 near (3, 3)"
    );
    let url = tab.get_url();
    assert!(
        url.contains("%2C2&") || url.ends_with("%2C2"),
        "the new point is in the link: {url}"
    );
    // Pasted CSV replaces them; a bad line is named.
    set(&tab, "csv", "x0,x1,label\\n1,2,0\\nfoo");
    click(&tab, "use-csv");
    wait_for(&tab, "!document.getElementById('error').hidden");
    let message = eval(&tab, "document.getElementById('error').textContent");
    assert!(
        message.as_str().unwrap_or_default().contains("line 3"),
        "{message}"
    );
    set(&tab, "csv", "x0,x1,label\\n1,2,0\\n-1,-2,1\\n0,4,1");
    click(&tab, "use-csv");
    wait_for(
        &tab,
        &format!("{count} === 3 && document.getElementById('error').hidden"),
    );
    click(&tab, "start");
    wait_for(&tab, "Number(document.body.dataset.epoch || 0) >= 20");
    click(&tab, "start");
    screenshot(&tab, "net-6-own-points");
    assert_no_errors(&errors);
}
