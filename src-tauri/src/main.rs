fn main() {
    casedesk_app::run()
}
