"""What a simulated guest contains: its config files and its package inventory.

Both node backends seed nodes from here: the virtual backend writes these files into a
node's tree, the docker backend writes them into the container (its image supplies the
programs; these files supply the RHEL 9 or Ubuntu 22 identity).
"""

from __future__ import annotations

from dcsim.sim.model import GuestOs

#: Installed packages and versions, a realistic subset with security-relevant ones.
PACKAGES: dict[GuestOs, dict[str, str]] = {
    GuestOs.RHEL9: {
        "bash": "5.1.8-9.el9",
        "curl": "7.76.1-29.el9_4",
        "glibc": "2.34-100.el9_4.2",
        "kernel": "5.14.0-427.13.1.el9_4",
        "openssh-server": "8.7p1-38.el9",
        "openssl": "3.0.7-27.el9",
        "python3": "3.9.18-3.el9_4.1",
        "sudo": "1.9.5p2-10.el9_3",
        "systemd": "252-32.el9_4",
        "vim-minimal": "8.2.2637-20.el9_1",
    },
    GuestOs.UBUNTU22: {
        "bash": "5.1-6ubuntu1.1",
        "curl": "7.81.0-1ubuntu1.15",
        "libc6": "2.35-0ubuntu3.6",
        "linux-image-generic": "5.15.0.105.102",
        "openssh-server": "1:8.9p1-3ubuntu0.6",
        "openssl": "3.0.2-0ubuntu1.15",
        "python3": "3.10.6-1~22.04",
        "sudo": "1.9.9-1ubuntu2.4",
        "systemd": "249.11-0ubuntu3.12",
        "vim-tiny": "2:8.2.3995-1ubuntu2.16",
    },
}

_OS_RELEASE = {
    GuestOs.RHEL9: """NAME="Red Hat Enterprise Linux"
VERSION="9.4 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"
HOME_URL="https://www.redhat.com/"
""",
    GuestOs.UBUNTU22: """PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
UBUNTU_CODENAME=jammy
""",
}

_SSHD_CONFIG = """# dc-sim baseline sshd_config
Port 22
AddressFamily any
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding no
PrintMotd no
ClientAliveInterval 300
ClientAliveCountMax 2
AcceptEnv LANG LC_*
Subsystem sftp {sftp}
"""

_SYSCTL = """# dc-sim baseline kernel parameters
net.ipv4.ip_forward = 0
net.ipv4.conf.all.accept_redirects = 0
net.ipv4.conf.all.send_redirects = 0
net.ipv4.tcp_syncookies = 1
kernel.randomize_va_space = 2
fs.suid_dumpable = 0
vm.swappiness = 30
"""

_SUDOERS = """# dc-sim baseline sudoers
Defaults    env_reset
Defaults    secure_path = /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
root    ALL=(ALL:ALL) ALL
%{admin_group}  ALL=(ALL:ALL) ALL
"""

_PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
sshd:x:74:74:Privilege-separated SSH:/usr/share/empty.sshd:/usr/sbin/nologin
ops:x:1000:1000:Operations:/home/ops:/bin/bash
"""


def config_files(hostname: str, guest_os: GuestOs) -> dict[str, str]:
    """The baseline ``/etc`` files of a node, path inside the node to text."""
    rhel = guest_os is GuestOs.RHEL9
    return {
        "/etc/os-release": _OS_RELEASE[guest_os],
        "/etc/hostname": f"{hostname}\n",
        "/etc/hosts": f"127.0.0.1   localhost\n::1         localhost ip6-localhost\n127.0.1.1   {hostname}\n",
        "/etc/resolv.conf": "search dc-sim.local\nnameserver 127.0.0.53\noptions edns0 trust-ad\n",
        "/etc/ssh/sshd_config": _SSHD_CONFIG.format(
            sftp="/usr/libexec/openssh/sftp-server" if rhel else "/usr/lib/openssh/sftp-server"
        ),
        "/etc/sysctl.conf": _SYSCTL,
        "/etc/sudoers": _SUDOERS.format(admin_group="wheel" if rhel else "sudo"),
        "/etc/passwd": _PASSWD,
    }
