//! The web console in a real browser (headless Chromium through chromedriver): signing in, the
//! pages of each section, and the refusals. Screenshots of every page go to
//! `target/console-screenshots`.

mod groups;
mod people;
mod review;
mod signing;
mod today;

use crate::helpers::*;

/// Signs `browser` in to `api`'s console with `key`, from the sign-in page.
pub async fn sign_in(browser: &Browser, api: &Api, key: &str) {
    browser.open(&api.url("/console/sign-in")).await;
    browser.fill("#key", key).await;
    browser.submit("form[action='/console/sign-in'] button").await;
    browser.find("form.who").await;
}
