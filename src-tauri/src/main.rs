// No console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Under the C/POSIX locale WebKitGTK tells the page its language is "C", which is not
    // a language tag: `Intl` then throws (the charts format numbers with it). The app
    // speaks English there, as the C locale does. Set before any thread starts.
    if cfg!(target_os = "linux") {
        let locale =
            ["LC_ALL", "LC_MESSAGES", "LANG"].iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
        if locale.is_none_or(|l| l == "C" || l == "POSIX" || l.starts_with("C.")) {
            std::env::set_var("LC_ALL", "en_US.UTF-8");
        }
    }
    casedesk_app::run()
}
