//! TCP_NODELAY on the store's PostgreSQL connections. sqlx 0.9.0 stopped setting it (sqlx issue
//! #4335, fixed after that release); without it Nagle's algorithm holds back the tail of any
//! message that spans packets until the server's delayed ACK, 40 ms later, which made a batch
//! of 100 attendance events take 50 ms instead of 6. sqlx does not hand out its socket, so each
//! new connection's hook sets the option on the process's TCP sockets to the server's port.

/// Sets TCP_NODELAY on every TCP socket of this process whose peer port is `port`; returns how
/// many it set. Setting it twice is harmless, so sockets already set are simply set again.
#[cfg(target_os = "linux")]
pub fn set_on_sockets_to(port: u16) -> usize {
    use std::os::fd::RawFd;
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    let fds: Vec<RawFd> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    fds.into_iter()
        .filter(|fd| peer_port(*fd) == Some(port) && set_nodelay(*fd))
        .count()
}

#[cfg(not(target_os = "linux"))]
pub fn set_on_sockets_to(_port: u16) -> usize {
    0
}

#[cfg(target_os = "linux")]
fn peer_port(fd: std::os::fd::RawFd) -> Option<u16> {
    // SAFETY: getpeername writes at most `len` bytes into the zeroed storage it is given, and
    // fails (ENOTSOCK, EBADF) on anything that is not a connected socket.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let peer = unsafe { libc::getpeername(fd, (&raw mut storage).cast(), &mut len) };
    if peer != 0 {
        return None;
    }
    match i32::from(storage.ss_family) {
        // SAFETY: the family says which address structure the storage holds.
        libc::AF_INET => Some(u16::from_be(
            unsafe { *(&raw const storage).cast::<libc::sockaddr_in>() }.sin_port,
        )),
        libc::AF_INET6 => Some(u16::from_be(
            unsafe { *(&raw const storage).cast::<libc::sockaddr_in6>() }.sin6_port,
        )),
        _ => None,
    }
}

#[cfg(target_os = "linux")]
fn set_nodelay(fd: std::os::fd::RawFd) -> bool {
    let on: libc::c_int = 1;
    // SAFETY: a valid pointer to an int of the size given; fails harmlessly on a non-TCP fd.
    let set = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&raw const on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    set == 0
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn sets_nodelay_on_sockets_to_the_port_only() {
        use std::os::fd::AsRawFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let bystander = std::net::TcpStream::connect(other.local_addr().unwrap()).unwrap();
        assert!(!client.nodelay().unwrap());
        assert_eq!(set_on_sockets_to(port), 1);
        assert!(client.nodelay().unwrap());
        assert!(!bystander.nodelay().unwrap(), "fd {} untouched", bystander.as_raw_fd());
    }
}
