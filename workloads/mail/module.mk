# workloads/mail/: the mail VM. vcons-mail (static guest program: SMTP + IMAP on Maildir),
# vcons-mail-load (host load generator) and the protocol library both use, with its unit tests.
LIBS += mailproto
mailproto.srcs := workloads/mail/proto_line.c workloads/mail/proto_smtp.c workloads/mail/proto_imap.c \
	workloads/mail/mime.c workloads/mail/imap_msg.c workloads/mail/imap_search.c \
	workloads/mail/proto_sasl.c

LIBS += mailstore
mailstore.srcs := workloads/mail/mailstore.c workloads/mail/mailbox.c workloads/mail/mailbox_copy.c \
	workloads/mail/mailview.c

# the SMTP and IMAP sessions (byte buffers in, byte buffers out: workloads/common/buf.h in
# libvcsrv), a library so unit tests and the sanitizer build cover them
LIBS += mailsession
mailsession.srcs := workloads/mail/server_smtp.c workloads/mail/server_imap.c \
	workloads/mail/server_mailbox.c

GUEST_PROGS += vcons-mail
vcons-mail.srcs := workloads/mail/server_main.c workloads/mail/server_net.c
vcons-mail.deps := mailsession mailstore mailproto vcsrv vclib
vcons-mail.ldlibs := -lssl -lcrypto -pthread

UNIT_TESTS += mailproto-test
mailproto-test.srcs := workloads/mail/test/proto_test.c
mailproto-test.deps := mailproto
mailproto-test.ldlibs := -lcmocka -lcrypto

E2E_TESTS += workloads/mail/test/protocol.sh workloads/mail/test/protocol.sh@hv
E2E_TESTS += workloads/mail/test/imap_clients.sh workloads/mail/test/imap_clients.sh@hv
E2E_TESTS += workloads/mail/test/folders.sh workloads/mail/test/folders.sh@hv
E2E_TESTS += workloads/mail/test/idle.sh workloads/mail/test/idle.sh@hv
E2E_TESTS += workloads/mail/test/real_clients.sh workloads/mail/test/real_clients.sh@hv
E2E_TESTS += workloads/mail/test/tls.sh workloads/mail/test/tls.sh@hv

HOST_PROGS += vcons-mail-load
vcons-mail-load.srcs := workloads/mail/load_main.c workloads/mail/load_session.c \
	workloads/mail/load_steps.c workloads/mail/load_conn.c workloads/mail/load_plan.c \
	workloads/mail/load_net.c workloads/mail/load_imap.c workloads/mail/load_msg.c \
	workloads/mail/load_journal.c workloads/mail/load_profile.c
vcons-mail-load.deps := mailproto vcload vclib
vcons-mail-load.ldlibs := -ljansson -lyaml -lssl -lcrypto -lpthread -lm
E2E_TESTS += workloads/mail/test/load.sh workloads/mail/test/load.sh@hv
E2E_TESTS += workloads/mail/test/crash.sh workloads/mail/test/crash.sh@hv
BENCHES += workloads/mail/bench/mail-bench.sh workloads/mail/bench/mail-bench.sh@hv
UNIT_TESTS += mailstore-test
mailstore-test.srcs := workloads/mail/test/store_test.c
mailstore-test.deps := mailstore mailproto vclib
mailstore-test.ldlibs := -lcmocka -pthread

UNIT_TESTS += mailsession-test
mailsession-test.srcs := workloads/mail/test/session_test.c
mailsession-test.deps := mailsession mailstore mailproto vcsrv vclib
mailsession-test.ldlibs := -lcmocka -lcrypto -pthread

# fuzz targets (`make fuzz FUZZ_ONLY=mail-smtp`): the SMTP and IMAP sessions over a scratch Maildir
# below build/ (mail-tls: under TLS, on the server core's transport), the protocol parsers and the
# message layer directly; corpora in workloads/mail/fuzz/{smtp,imap,tls,proto,msg}/
FUZZERS += mail-smtp mail-imap mail-proto
mail-smtp.srcs := workloads/mail/fuzz/smtp.c workloads/mail/fuzz/driver.c
mail-smtp.deps := mailsession mailstore mailproto vcsrv vclib
mail-smtp.ldlibs := -lcrypto -pthread
mail-imap.srcs := workloads/mail/fuzz/imap.c workloads/mail/fuzz/driver.c
mail-imap.deps := mailsession mailstore mailproto vcsrv vclib
mail-imap.ldlibs := -lcrypto -pthread
FUZZERS += mail-tls
mail-tls.srcs := workloads/mail/fuzz/tls.c workloads/mail/fuzz/driver.c
mail-tls.deps := mailsession mailstore mailproto vcsrv vclib
mail-tls.ldlibs := -lssl -lcrypto -pthread
mail-proto.srcs := workloads/mail/fuzz/proto.c
mail-proto.deps := mailproto
mail-proto.ldlibs := -lcrypto

UNIT_TESTS += mailmsg-test
mailmsg-test.srcs := workloads/mail/test/msg_test.c
mailmsg-test.deps := mailproto
mailmsg-test.ldlibs := -lcmocka
FUZZERS += mail-msg
mail-msg.srcs := workloads/mail/fuzz/msg.c
mail-msg.deps := mailproto

# the load generator's user model and what it parses, without sockets
UNIT_TESTS += mailload-test
mailload-test.srcs := workloads/mail/test/load_test.c workloads/mail/load_plan.c \
	workloads/mail/load_profile.c workloads/mail/load_msg.c workloads/mail/load_imap.c \
	workloads/mail/load_net.c
mailload-test.deps := mailproto vcload vclib
mailload-test.ldlibs := -lcmocka -lyaml -lssl -lcrypto -lm
