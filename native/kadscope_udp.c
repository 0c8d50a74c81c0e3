// kadscope's own UDP socket layer: a libuv UDP handle on Node's (or Electron main's) event loop,
// reached through N-API (ABI-stable, so one build loads in every Node and Electron that has N-API 8).
// It exists for what udx-native and node:dgram cannot do:
//
// - Receive in batches. The handle reads with recvmmsg (libuv's UV_UDP_RECVMMSG: up to 20 datagrams
//   per system call). Every datagram of one read is copied into an inbox shared with JavaScript (an
//   ArrayBuffer per thread) and JavaScript is entered once per read, not once per datagram; each
//   entry is one callback scope, so promises settled by the batch run once, after it.
// - Send without a completion call into JavaScript. A datagram goes with uv_udp_try_send; the result
//   (bytes or a libuv error) is returned at once. Only when the kernel's send buffer is full is it
//   copied and queued, and its completion stays in C.
// - Read whole datagrams: each of the 20 receive slots is 64 KiB, so nothing UDP carries is cut.
//
// One socket at a time hands JavaScript a batch: the inbox belongs to the socket being read until its
// batch is delivered, which happens before libuv reads any other handle. Each thread (Node's main
// thread, a worker) has its own inbox and receive slab (per-environment instance data), and an
// environment being torn down closes its sockets first (an async cleanup hook), so a worker that
// exits with sockets open leaves no handle on its loop.
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define SLOT_BYTES 65536                 /* libuv's recvmmsg slot size (UV__UDP_DGRAM_MAXSIZE) */
#define SLOTS 20                         /* libuv reads at most this many datagrams per recvmmsg */
#define INBOX_BYTES (256 * 1024)         /* datagram bytes handed to JavaScript per entry, at most */
#define INBOX_DATAGRAMS 64               /* datagrams per entry, at most */
#define META_FIELDS 8                    /* per datagram: offset, length, port, family (4 or 6), then the
                                            sender's address bytes as they came (4 or 16) */

typedef struct socket_s socket_t;

typedef struct {
  uv_loop_t* loop;
  char* slab;                            /* SLOTS * SLOT_BYTES, allocated on the first read */
  uint8_t* inbox;                        /* the JavaScript ArrayBuffer's bytes */
  int32_t* meta;                         /* the JavaScript Int32Array's elements */
  napi_ref inbox_ref;
  napi_ref meta_ref;
  socket_t* pending_socket;              /* whose datagrams the inbox holds */
  int pending;                           /* datagrams in the inbox */
  size_t pending_bytes;
  socket_t* open;                        /* open sockets (a list through socket_t.next/prev) */
  int refs;                              /* 1 for the environment, 1 per socket not yet freed */
  int tearing_down;
  napi_async_cleanup_hook_handle cleanup;
} env_state_t;

struct socket_s {
  uv_udp_t handle;
  napi_env env;
  env_state_t* st;
  int family;                            /* AF_INET or AF_INET6 */
  int bound;
  int closing;
  int closed;                            /* the close callback ran */
  int finalized;                         /* JavaScript's handle object is gone */
  napi_ref self;                         /* keeps the handle object alive while open */
  napi_ref on_batch;
  napi_ref on_error;
  napi_ref on_close;
  napi_async_context async_context;
  socket_t* next;
  socket_t* prev;
};

/* --- helpers ------------------------------------------------------------------------------------ */

#define CALL(env, call)                                                                            \
  do {                                                                                             \
    if ((call) != napi_ok) {                                                                       \
      const napi_extended_error_info* info_;                                                      \
      napi_get_last_error_info((env), &info_);                                                     \
      bool pending_;                                                                               \
      napi_is_exception_pending((env), &pending_);                                                 \
      if (!pending_) napi_throw_error((env), "ERR_KADSCOPE_UDP", info_->error_message ? info_->error_message : "N-API call failed"); \
      return NULL;                                                                                 \
    }                                                                                              \
  } while (0)

static napi_value throw_uv(napi_env env, int code, const char* what) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, uv_strerror(code));
  napi_throw_error(env, uv_err_name(code), message);
  return NULL;
}

static void state_release(env_state_t* st) {
  if (--st->refs > 0) return;
  free(st->slab);
  free(st);
}

static void list_remove(socket_t* s) {
  env_state_t* st = s->st;
  if (s->prev) s->prev->next = s->next;
  else if (st->open == s) st->open = s->next;
  if (s->next) s->next->prev = s->prev;
  s->next = s->prev = NULL;
}

/** Calls `fn` as Node calls its own callbacks: in a callback scope (nextTicks and microtasks run after), an exception as uncaught. */
static void call_js(socket_t* s, napi_ref fn_ref, size_t argc, napi_value* argv) {
  napi_env env = s->env;
  napi_value fn, recv, result;
  if (fn_ref == NULL || napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == NULL) return;
  napi_get_global(env, &recv); /* napi_make_callback wants an object as the receiver */
  if (napi_make_callback(env, s->async_context, recv, fn, argc, argv, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
    }
  }
}

/* --- receiving ---------------------------------------------------------------------------------- */

/** Forgets the inbox's datagrams without delivering them (their socket is closing). */
static void drop_pending(env_state_t* st) {
  st->pending = 0;
  st->pending_bytes = 0;
  st->pending_socket = NULL;
}

/** Hands the inbox's datagrams to their socket's JavaScript, once. */
static void deliver(env_state_t* st) {
  socket_t* s = st->pending_socket;
  int count = st->pending;
  drop_pending(st);
  if (s == NULL || count == 0 || s->closing) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[1];
  napi_create_int32(env, count, &argv[0]);
  call_js(s, s->on_batch, 1, argv);
  napi_close_handle_scope(env, scope);
}

static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void)suggested;
  socket_t* s = (socket_t*)handle->data;
  env_state_t* st = s->st;
  if (st->slab == NULL) st->slab = (char*)malloc((size_t)SLOTS * SLOT_BYTES);
  buf->base = st->slab;
  buf->len = st->slab ? (size_t)SLOTS * SLOT_BYTES : 0;
}

static void on_receive(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const struct sockaddr* addr, unsigned flags) {
  socket_t* s = (socket_t*)handle->data;
  env_state_t* st = s->st;
  if (st->pending > 0 && st->pending_socket != s) deliver(st);
  if (s->closing) {
    drop_pending(st);
    return;
  }
  if (nread < 0) {
    deliver(st);
    napi_handle_scope scope;
    napi_open_handle_scope(s->env, &scope);
    napi_value argv[2];
    napi_create_string_utf8(s->env, uv_err_name((int)nread), NAPI_AUTO_LENGTH, &argv[0]);
    napi_create_string_utf8(s->env, uv_strerror((int)nread), NAPI_AUTO_LENGTH, &argv[1]);
    call_js(s, s->on_error, 2, argv);
    napi_close_handle_scope(s->env, scope);
    return;
  }
  if (addr == NULL) {
    /* The end of one recvmmsg (UV_UDP_MMSG_FREE), or nothing more to read. */
    deliver(st);
    return;
  }
  if ((flags & UV_UDP_PARTIAL) == 0) {
    size_t length = (size_t)nread;
    if (st->pending == INBOX_DATAGRAMS || length > INBOX_BYTES - st->pending_bytes) deliver(st);
    int i = st->pending;
    int32_t* m = st->meta + (size_t)i * META_FIELDS;
    memcpy(st->inbox + st->pending_bytes, buf->base, length);
    m[0] = (int32_t)st->pending_bytes;
    m[1] = (int32_t)length;
    /* The address bytes as they came (network order), for JavaScript to format. */
    if (addr->sa_family == AF_INET) {
      const struct sockaddr_in* a = (const struct sockaddr_in*)addr;
      m[2] = ntohs(a->sin_port);
      m[3] = 4;
      memcpy(m + 4, &a->sin_addr, 4);
    } else {
      const struct sockaddr_in6* a = (const struct sockaddr_in6*)addr;
      m[2] = ntohs(a->sin6_port);
      m[3] = 6;
      memcpy(m + 4, &a->sin6_addr, 16);
    }
    st->pending = i + 1;
    st->pending_bytes += length;
    st->pending_socket = s;
  }
  /* A datagram read alone (recvmsg, not recvmmsg) is followed by no end-of-batch call. */
  if ((flags & UV_UDP_MMSG_CHUNK) == 0) deliver(st);
}

/* --- the socket's life -------------------------------------------------------------------------- */

static void socket_free(socket_t* s) {
  env_state_t* st = s->st;
  free(s);
  state_release(st);
}

static void on_closed(uv_handle_t* handle) {
  socket_t* s = (socket_t*)handle->data;
  env_state_t* st = s->st;
  s->closed = 1;
  list_remove(s);
  if (st->tearing_down) {
    /* The environment is going: no JavaScript, no references (they go with it). The struct is
       freed here only if its handle object's finalizer already ran; otherwise that frees it. */
    if (st->open == NULL && st->cleanup != NULL) {
      napi_async_cleanup_hook_handle h = st->cleanup;
      st->cleanup = NULL;
      napi_remove_async_cleanup_hook(h);
    }
    if (s->finalized) socket_free(s);
    return;
  }
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  call_js(s, s->on_close, 0, NULL);
  napi_close_handle_scope(env, scope);
  if (s->on_batch) napi_delete_reference(env, s->on_batch);
  if (s->on_error) napi_delete_reference(env, s->on_error);
  if (s->on_close) napi_delete_reference(env, s->on_close);
  s->on_batch = s->on_error = s->on_close = NULL;
  napi_async_destroy(env, s->async_context);
  s->async_context = NULL;
  napi_ref self = s->self;
  s->self = NULL;
  int finalized = s->finalized;
  if (self) napi_delete_reference(env, self);
  if (finalized) socket_free(s);
}

static void start_close(socket_t* s) {
  if (s->closing) return;
  s->closing = 1;
  if (s->st->pending_socket == s) drop_pending(s->st);
  uv_close((uv_handle_t*)&s->handle, on_closed);
}

static void on_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  socket_t* s = (socket_t*)data;
  s->finalized = 1;
  if (s->closed) socket_free(s);
  /* Otherwise the handle object went while the socket was never closed nor bound: close it now. */
  else if (!s->closing && !s->st->tearing_down) start_close(s);
}

static void on_teardown(napi_async_cleanup_hook_handle handle, void* arg) {
  env_state_t* st = (env_state_t*)arg;
  st->tearing_down = 1;
  st->cleanup = handle;
  if (st->open == NULL) {
    st->cleanup = NULL;
    napi_remove_async_cleanup_hook(handle);
    return;
  }
  for (socket_t* s = st->open; s != NULL; s = s->next) {
    if (!s->closing) {
      s->closing = 1;
      uv_close((uv_handle_t*)&s->handle, on_closed);
    }
  }
}

static void on_state_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  env_state_t* st = (env_state_t*)data;
  st->tearing_down = 1;
  state_release(st);
}

static socket_t* unwrap(napi_env env, napi_value value) {
  socket_t* s = NULL;
  if (napi_get_value_external(env, value, (void**)&s) != napi_ok || s == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "not a kadscope UDP socket");
    return NULL;
  }
  return s;
}

/* create(ipv6: boolean, onBatch(count), onError(code, message), onClose()) -> socket */
static napi_value js_create(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  env_state_t* st;
  CALL(env, napi_get_instance_data(env, (void**)&st));
  bool ipv6 = false;
  CALL(env, napi_get_value_bool(env, argv[0], &ipv6));
  socket_t* s = (socket_t*)calloc(1, sizeof(socket_t));
  if (s == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  s->env = env;
  s->st = st;
  s->family = ipv6 ? AF_INET6 : AF_INET;
  int rc = uv_udp_init_ex(st->loop, &s->handle, (unsigned)s->family | UV_UDP_RECVMMSG);
  if (rc != 0) {
    free(s);
    return throw_uv(env, rc, "cannot create a UDP socket");
  }
  s->handle.data = s;
  st->refs++;
  s->next = st->open;
  if (st->open) st->open->prev = s;
  st->open = s;
  napi_value name, external;
  napi_create_string_utf8(env, "kadscope:udp", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->async_context);
  napi_create_reference(env, argv[1], 1, &s->on_batch);
  napi_create_reference(env, argv[2], 1, &s->on_error);
  napi_create_reference(env, argv[3], 1, &s->on_close);
  CALL(env, napi_create_external(env, s, on_finalize, NULL, &external));
  napi_create_reference(env, external, 1, &s->self);
  return external;
}

static napi_value address_of(napi_env env, socket_t* s) {
  struct sockaddr_storage addr;
  int len = sizeof addr;
  int rc = uv_udp_getsockname(&s->handle, (struct sockaddr*)&addr, &len);
  if (rc != 0) return throw_uv(env, rc, "cannot read the bound address");
  char name[64];
  int port;
  if (addr.ss_family == AF_INET) {
    uv_ip4_name((struct sockaddr_in*)&addr, name, sizeof name);
    port = ntohs(((struct sockaddr_in*)&addr)->sin_port);
  } else {
    uv_ip6_name((struct sockaddr_in6*)&addr, name, sizeof name);
    port = ntohs(((struct sockaddr_in6*)&addr)->sin6_port);
  }
  napi_value result, address, portValue;
  napi_create_array_with_length(env, 2, &result);
  napi_create_string_latin1(env, name, NAPI_AUTO_LENGTH, &address);
  napi_create_int32(env, port, &portValue);
  napi_set_element(env, result, 0, address);
  napi_set_element(env, result, 1, portValue);
  return result;
}

static int parse_address(socket_t* s, const char* host, int port, struct sockaddr_storage* out) {
  memset(out, 0, sizeof *out);
  if (port < 0 || port > 65535) return UV_EINVAL;
  if (s->family == AF_INET) return uv_ip4_addr(host, port, (struct sockaddr_in*)out);
  return uv_ip6_addr(host, port, (struct sockaddr_in6*)out);
}

/* bind(socket, host, port) -> [address, port]; throws an Error whose code is libuv's (EADDRINUSE, ...) */
static napi_value js_bind(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  socket_t* s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  if (s->closing) return throw_uv(env, UV_EBADF, "cannot bind");
  char host[64];
  size_t host_len = 0;
  int32_t port = 0;
  CALL(env, napi_get_value_string_latin1(env, argv[1], host, sizeof host, &host_len));
  CALL(env, napi_get_value_int32(env, argv[2], &port));
  struct sockaddr_storage addr;
  int rc = parse_address(s, host, port, &addr);
  if (rc != 0) return throw_uv(env, rc, "cannot bind");
  /* An IPv6 socket bound to :: also carries IPv4 (dual stack), as node:dgram's does. */
  rc = uv_udp_bind(&s->handle, (struct sockaddr*)&addr, 0);
  if (rc != 0) return throw_uv(env, rc, "cannot bind");
  rc = uv_udp_recv_start(&s->handle, on_alloc, on_receive);
  if (rc != 0) return throw_uv(env, rc, "cannot receive");
  s->bound = 1;
  return address_of(env, s);
}

/*
 * send(socket, data: Uint8Array, port, host) -> bytes sent (>= 0) or a libuv error (< 0). The kernel
 * takes the datagram at once or it is copied and queued (its completion stays in C).
 */
typedef struct {
  uv_udp_send_t req;
  char data[];
} queued_send_t;

static void on_sent(uv_udp_send_t* req, int status) {
  (void)status;
  free(req);
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  socket_t* s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  void* data = NULL;
  size_t length = 0;
  napi_typedarray_type type;
  napi_value arraybuffer;
  size_t offset;
  CALL(env, napi_get_typedarray_info(env, argv[1], &type, &length, &data, &arraybuffer, &offset));
  if (type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "data must be a Uint8Array");
    return NULL;
  }
  int32_t port = 0;
  char host[64];
  size_t host_len = 0;
  CALL(env, napi_get_value_int32(env, argv[2], &port));
  CALL(env, napi_get_value_string_latin1(env, argv[3], host, sizeof host, &host_len));
  int rc;
  struct sockaddr_storage addr;
  if (s->closing || !s->bound) rc = UV_EBADF;
  else rc = parse_address(s, host, port, &addr);
  if (rc == 0) {
    uv_buf_t buf = uv_buf_init((char*)data, (unsigned)length);
    rc = uv_udp_try_send(&s->handle, &buf, 1, (struct sockaddr*)&addr);
    if (rc == UV_EAGAIN) {
      queued_send_t* q = (queued_send_t*)malloc(sizeof(queued_send_t) + length);
      if (q == NULL) rc = UV_ENOBUFS;
      else {
        memcpy(q->data, data, length);
        uv_buf_t copy = uv_buf_init(q->data, (unsigned)length);
        rc = uv_udp_send(&q->req, &s->handle, &copy, 1, (struct sockaddr*)&addr, on_sent);
        if (rc != 0) free(q);
        else rc = (int)length;
      }
    }
  }
  napi_value result;
  napi_create_int32(env, rc, &result);
  return result;
}

/* setBufferSize(socket, receive: boolean, bytes) -> undefined; throws on a libuv error */
static napi_value js_set_buffer_size(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  socket_t* s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  bool receive = false;
  int32_t bytes = 0;
  CALL(env, napi_get_value_bool(env, argv[1], &receive));
  CALL(env, napi_get_value_int32(env, argv[2], &bytes));
  if (s->closing) return throw_uv(env, UV_EBADF, "cannot set the buffer size");
  int value = bytes;
  int rc = receive ? uv_recv_buffer_size((uv_handle_t*)&s->handle, &value) : uv_send_buffer_size((uv_handle_t*)&s->handle, &value);
  if (rc != 0) return throw_uv(env, rc, "cannot set the buffer size");
  return NULL;
}

/* close(socket) -> undefined; onClose runs once libuv has released the handle. Idempotent. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  socket_t* s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  start_close(s);
  return NULL;
}

/* usingRecvmmsg(socket) -> whether libuv reads this socket with recvmmsg (bound sockets, Linux). */
static napi_value js_using_recvmmsg(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  socket_t* s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  napi_value result;
  napi_get_boolean(env, !s->closing && uv_udp_using_recvmmsg(&s->handle) == 1, &result);
  return result;
}

/* address(socket) -> the bound [address, port]; throws EBADF once closed, as libuv does before bind */
static napi_value js_address(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  socket_t* s = unwrap(env, argv[0]);
  if (s == NULL) return NULL;
  if (s->closing) return throw_uv(env, UV_EBADF, "cannot read the bound address");
  return address_of(env, s);
}

/* errorName(code) -> libuv's name of a negative error (EACCES, ENETUNREACH, ...) */
static napi_value js_error_name(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t code = 0;
  CALL(env, napi_get_value_int32(env, argv[0], &code));
  napi_value result;
  napi_create_string_utf8(env, code < 0 ? uv_err_name(code) : "OK", NAPI_AUTO_LENGTH, &result);
  return result;
}

NAPI_MODULE_INIT() {
  env_state_t* st = (env_state_t*)calloc(1, sizeof(env_state_t));
  if (st == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  st->refs = 1;
  CALL(env, napi_get_uv_event_loop(env, &st->loop));
  napi_value inbox, meta, meta_buffer;
  void* inbox_data;
  void* meta_data;
  CALL(env, napi_create_arraybuffer(env, INBOX_BYTES, &inbox_data, &inbox));
  CALL(env, napi_create_arraybuffer(env, (size_t)INBOX_DATAGRAMS * META_FIELDS * sizeof(int32_t), &meta_data, &meta_buffer));
  CALL(env, napi_create_typedarray(env, napi_int32_array, (size_t)INBOX_DATAGRAMS * META_FIELDS, meta_buffer, 0, &meta));
  st->inbox = (uint8_t*)inbox_data;
  st->meta = (int32_t*)meta_data;
  napi_create_reference(env, inbox, 1, &st->inbox_ref);
  napi_create_reference(env, meta, 1, &st->meta_ref);
  CALL(env, napi_set_instance_data(env, st, on_state_finalize, NULL));
  CALL(env, napi_add_async_cleanup_hook(env, on_teardown, st, NULL));

  napi_value fn;
#define EXPORT(name, impl)                                                                         \
  CALL(env, napi_create_function(env, name, NAPI_AUTO_LENGTH, impl, NULL, &fn));                   \
  CALL(env, napi_set_named_property(env, exports, name, fn));
  EXPORT("create", js_create);
  EXPORT("bind", js_bind);
  EXPORT("send", js_send);
  EXPORT("setBufferSize", js_set_buffer_size);
  EXPORT("close", js_close);
  EXPORT("usingRecvmmsg", js_using_recvmmsg);
  EXPORT("errorName", js_error_name);
  EXPORT("address", js_address);
#undef EXPORT
  napi_value inbox_view;
  CALL(env, napi_create_typedarray(env, napi_uint8_array, INBOX_BYTES, inbox, 0, &inbox_view));
  CALL(env, napi_set_named_property(env, exports, "inbox", inbox_view));
  CALL(env, napi_set_named_property(env, exports, "meta", meta));
  napi_value n;
  napi_create_int32(env, META_FIELDS, &n);
  napi_set_named_property(env, exports, "metaFields", n);
  napi_create_int32(env, SLOT_BYTES, &n);
  napi_set_named_property(env, exports, "maxDatagramBytes", n);
  return exports;
}
