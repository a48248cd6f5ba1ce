//! A hub's router served over loopback for the HTTP tests.

/// Serves the router `app` makes for its own URL on a port of its own, with the client's
/// address as the hub's binary gives it; returns the URL.
pub fn listen(app: impl FnOnce(&str) -> axum::Router) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let app = app(&url).into_make_service_with_connect_info::<std::net::SocketAddr>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            axum::serve(tokio::net::TcpListener::from_std(listener).unwrap(), app).await.unwrap();
        });
    });
    url
}
