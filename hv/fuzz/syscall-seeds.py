#!/usr/bin/env python3
"""hv/fuzz/syscall-seeds.py: writes the hand-made seed inputs of the hv-syscall fuzz target into
hv/fuzz/syscall/ (run from the repository's root). It reads the call, path and value tables out of
hv/fuzz/syscall.c, so the seeds name calls and paths, not indexes: each seed is a short guest
story (open-read-close, escapes through "..", symlinks out of the root, bad and misaligned
pointers, mmap of a file, a system call's pointer into a file mapping that faults hv, sockets,
pipes and polls with the racer on their structures...). The fuzzer's own finds are kept beside these."""
import struct,os,re
src=open('hv/fuzz/syscall.c').read()
calls=re.sub(r'/\*.*?\*/','',src.split('static const unsigned fz_calls[] = {')[1].split('};')[0],flags=re.S)
names=[c.strip().replace('__NR_','') for c in calls.replace('\n',' ').split(',') if c.strip()]
paths=src.split('static const char *const fz_paths[] = {')[1].split('};')[0]
plist=re.findall(r'"([^"]*)"',paths)
vals=src.split('static const uint64_t fz_values[] = {')[1].split('};')[0]
vlist=[v.strip() for v in vals.replace('\n',' ').split(',') if v.strip()]
def P(name): return plist.index(name)
def VI(name): return vlist.index(name)
def rec(call,*args):
    b=bytes([names.index(call)])
    args=list(args)+[(0,0)]*(6-len(args))
    for tag,v in args: b+=bytes([tag])+struct.pack('<H',v&0xffff)
    return b
def inp(scratch,recs): return struct.pack('<H',len(scratch))+scratch+b''.join(recs)
D=lambda name:(0,P(name)); F=lambda n:(0,n); CWD=(1,0); S=lambda off:(0,off); V=lambda v:(0,v)
X=lambda name:(2,VI(name)); E=lambda i:(3,i)
OC=X('O_RDWR | O_CREAT | O_TRUNC')
seeds={
 'open-read-close':inp(b'',[rec('openat',CWD,D('f'),V(0)),rec('read',F(0),S(0),V(16)),rec('close',F(0))]),
 'escape-dotdot':inp(b'',[rec('openat',CWD,D('../outside'),V(0)),rec('openat',CWD,D('/../outside'),V(0)),rec('open',D('l/outside'),V(0)),rec('read',F(0),S(0),V(64))]),
 'escape-symlink-dir':inp(b'',[rec('chdir',D('l')),rec('getcwd',S(0),V(256)),rec('open',D('ld/x'),OC,X('0644')),rec('stat',D('../outside'),S(128))]),
 'write-truncate':inp(b'hello world',[rec('open',D('new'),OC,X('0644')),rec('write',F(0),S(0),V(11)),rec('ftruncate',F(0),V(3)),rec('lseek',F(0),V(0),V(0)),rec('read',F(0),S(128),V(11))]),
 'dirs':inp(b'',[rec('mkdir',D('d/new'),X('0755')),rec('open',D('d'),X('O_DIRECTORY')),rec('getdents64',F(0),S(0),V(4096)),rec('rename',D('d/new'),D('new')),rec('rmdir',D('new')),rec('unlink',D('f'))]),
 'mmap':inp(b'',[rec('open',D('f'),V(0)),rec('mmap',V(0),V(4096),X('PROT_READ | PROT_WRITE'),X('MAP_PRIVATE'),F(0),V(0)),rec('brk',V(0)),rec('mmap',V(0),V(8192),X('PROT_READ | PROT_WRITE'),X('MAP_PRIVATE | MAP_ANONYMOUS'),(2,VI('UINT64_MAX')),V(0))]),
 'bad-pointers':inp(b'',[rec('open',D('f'),V(0)),rec('read',F(0),E(0),V(16)),rec('read',F(0),E(2),V(16)),rec('getcwd',E(3),V(100)),rec('uname',E(4)),rec('clock_gettime',V(1),E(7)),rec('getrandom',E(2),V(64),V(0))]),
 'scratch-path':inp(b'd/../f\0',[rec('open',(2,0),V(0)),rec('readlink',D('l'),S(128),V(64)),rec('symlink',D('/'),D('new')),rec('open',D('new'),V(0))]),
 'fds':inp(b'',[rec('open',D('f'),V(0)),rec('dup',F(0)),rec('dup2',F(0),F(5)),rec('dup3',F(0),F(7),V(0)),rec('fcntl',F(0),V(1),V(0)),rec('close',F(5)),rec('fstat',F(7),S(0))]),
 'signals-misc':inp(b'\0'*64,[rec('rt_sigaction',V(10),S(0),S(256),V(8)),rec('rt_sigprocmask',V(0),S(0),S(384),V(8)),rec('sigaltstack',S(0),S(512)),rec('prlimit64',V(0),V(7),V(0),S(640)),rec('sysinfo',S(768)),rec('times',S(1024))]),
 'mmap-past-eof':inp(b'',[rec('open',D('f'),V(0)),rec('mmap',(67,0x21),V(8192),X('PROT_READ | PROT_WRITE'),X('MAP_FIXED | MAP_PRIVATE'),F(0),V(0)),rec('clock_gettime',V(1),S(4096)),rec('uname',S(0))]),
 'mmap-readonly-shared':inp(b'',[rec('open',D('f'),V(0)),rec('mmap',(67,0x21),V(4096),X('PROT_READ'),X('MAP_FIXED | MAP_SHARED'),F(0),V(0)),rec('clock_gettime',V(1),S(0)),rec('uname',S(0))]),
 'misaligned':inp(b'\0'*64,[rec('rt_sigprocmask',V(0),S(0),S(300),V(8)),rec('clock_gettime',V(1),S(3)),rec('fstat',F(0),S(5))]),
}
# Sockets, pipes, readiness and locks, with the racer (syscall.c) on their structures. A pointer
# argument's tag byte: bits 0-1 the pointer (0: scratch + offset, 3: an edge of guest RAM, 3,0 is
# NULL), bits 2-3 the race mode (1: the 4-byte slot `focus` of the 64 bytes there; 2: anywhere in
# them; 3: also further entries and the guest pointers found there), bits 4-7 the focus.
SCR=0x210000  # SCRATCH in syscall.c
def R(off,mode,focus=0): return (mode<<2|focus<<4,off)
NULL=(3,0)
def put(buf,off,data): buf[off:off+len(data)]=data
def scratch(n,parts):
    b=bytearray(n)
    for off,data in parts: put(b,off,data)
    return bytes(b)
q=lambda *v: struct.pack('<%dQ'%len(v),*v)
M64=(1<<64)-1
def race_k(r,n):
    """The index into race_value()'s table (0..23) that a mode-1 place gets when record r is the
    input's call n and the call races one place: syscall.c's race_plan/race_mutate, mirrored."""
    h=0xcbf29ce484222325^n
    for b in r: h=((h^b)*0x100000001b3)&M64
    z=h=(h+0x9e3779b97f4a7c15)&M64  # splitmix64, as race_next
    z=((z^(z>>30))*0xbf58476d1ce4e5b9)&M64
    z=((z^(z>>27))*0x94d049bb133111eb)&M64
    return ((z^(z>>31))>>1)%24
def raced(r,n,k):
    """Record r with its last argument (unused by a call of fewer than 6) set so that its mode-1
    place gets value k of race_value()'s table."""
    return next(r[:16]+bytes([0,v,0]) for v in range(256) if race_k(r[:16]+bytes([0,v,0]),n)==k)
msghdr=lambda name,namelen,iov,iovlen: struct.pack('<QI4xQQQQi4x',name,namelen,iov,iovlen,0,0,0)
seeds.update({
 # a datagram through a socketpair by sendmsg/recvmsg, the racer on msg_iovlen (slot 6) of the
 # sent msghdr (1 <-> 65: a second fetch after the check <= 64 would overflow hv's 64 iovecs; the
 # 64 entries after its one are zero, so such a copy would be used) and on the whole received
 # one, its iovec and name
 'socketpair-msg':inp(scratch(2112,[(64,msghdr(0,0,SCR+128,1)),(128,q(SCR+2048,16)),
   (1280,msghdr(SCR+1408,16,SCR+1344,1)),(1344,q(SCR+2560,64)),(1472,struct.pack('<4I',16,0,16,0)),(2048,b'over a socketpair')]),
   [rec('socketpair',V(1),V(2),V(0),S(0)),raced(rec('sendmsg',F(0),R(64,1,6),V(0)),1,3),rec('recvmsg',F(1),R(1280,3),V(0)),
    rec('sendto',F(1),S(2048),V(16),V(0),NULL,V(0)),rec('recvfrom',F(0),S(2560),V(64),V(0),S(1408),S(1472)),
    raced(rec('getsockname',F(0),S(1408),R(1480,1,0)),5,1),rec('getpeername',F(1),S(1408),R(1480,2))]),
 # a pipe polled every way, the racer on the pollfds, the fd_sets and the epoll_event
 'pipe-poll':inp(scratch(512,[(64,struct.pack('<ihhihh',0,1,0,1,4,0)),(128,q(1)),(136,q(2)),(192,struct.pack('<IQ',1,7))]),
   [rec('pipe2',S(0),V(0)),rec('write',F(1),S(64),V(5)),rec('poll',R(64,3),V(2),V(0)),
    rec('ppoll',R(64,2),V(2),NULL,NULL,V(8)),rec('select',V(2),R(128,2),R(136,1,0),NULL,NULL),
    rec('pselect6',V(2),S(128),S(136),NULL,NULL,NULL),rec('epoll_create1',V(0)),
    rec('epoll_ctl',F(2),V(1),F(0),R(192,1,0)),rec('epoll_wait',F(2),R(256,2),V(4),V(0)),rec('read',F(0),S(1024),V(64))]),
 # socket options and a timerfd, the racer on the option's value and length, the itimerspec
 'sockopt-timerfd':inp(scratch(512,[(64,struct.pack('<i',65536)),(192,struct.pack('<I',4)),(256,q(0,0,1,0))]),
   [rec('socketpair',V(1),V(1),V(0),S(0)),rec('setsockopt',F(0),V(1),V(8),R(64,1,0),V(4)),
    rec('getsockopt',F(0),V(1),V(3),S(128),R(192,1,0)),rec('timerfd_create',V(1),V(0)),
    rec('timerfd_settime',F(2),V(0),R(256,2),S(320)),rec('timerfd_gettime',F(2),S(384)),
    rec('shutdown',F(1),V(1)),rec('write',F(0),S(64),V(4)),rec('read',F(1),S(1024),V(16))]),
 # a record lock and vectored I/O, the racer on the struct flock and on the iovec array
 'lock-iovec':inp(scratch(128,[(0,struct.pack('<hh4xqqi4x',1,0,0,4,0)),(64,q(SCR+1024,8,SCR+1040,8))]),
   [rec('open',D('f'),V(2)),rec('fcntl',F(0),V(6),R(0,1,4)),rec('fcntl',F(0),V(5),R(0,2)),
    rec('readv',F(0),R(64,3),V(2)),rec('writev',F(0),R(64,1,2),V(2)),rec('preadv',F(0),R(64,3),V(2),V(0))]),
})
d = 'hv/fuzz/syscall'
os.makedirs(d, exist_ok=True)
for k, v in seeds.items():
    open(os.path.join(d, k), 'wb').write(v)
