/* Linux usbfs N-API addon: device open/claim/alt/driver (dis)connect, async control, and deep bulk/interrupt/iso URB queues
 * reaped on the event loop (uv_poll on the usbfs fd + USBDEVFS_REAPURBNDELAY), payloads landing in JS-owned buffers.
 *
 * Why uv_poll and not a reaper thread: usbfs signals completed URBs as POLLOUT on the fd, so the event loop can reap
 * without blocking and without any cross-thread hand-off; the JS callback runs in the same tick as the reap, and a
 * slow consumer just delays resubmission (the kernel keeps the other URBs in flight).
 * Only kernel uapi headers (linux/usbdevice_fs.h) and Node's own headers are used. */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/usbdevice_fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_SLOTS 256

struct stream;

struct slot {
  struct stream *stream;
  int index;
  int inflight;
  struct usbdevfs_urb *urb; /* followed by iso_frame_desc[packets] */
  uint8_t *data;
  size_t data_len;
  napi_ref data_ref;
  uint32_t *lengths; /* iso: per-packet actual lengths (JS Uint32Array), else NULL */
  int32_t *statuses; /* iso: per-packet status (JS Int32Array), else NULL */
  napi_ref lengths_ref, statuses_ref;
};

struct device;

struct stream {
  struct device *dev;
  struct stream *next;
  int type; /* USBDEVFS_URB_TYPE_* */
  unsigned endpoint;
  int packets;
  unsigned packet_size;
  size_t transfer_size;
  int nslots;
  int inflight;
  int stopping;
  int ended;
  struct slot slots[MAX_SLOTS];
  napi_ref callback;
  napi_async_context async_ctx;
  napi_ref self; /* keeps the JS external alive while URBs are in flight */
};

struct device {
  int fd;
  int closed;
  int gone;       /* ENODEV seen */
  int polling;
  int dispatching;
  uv_poll_t *poll; /* separately allocated: freed by uv_close's callback, whatever happens to the device */
  struct stream *streams;
  napi_env env;
};

/* ---------------------------------------------------------------- errors */

static const char *errno_code(int e) {
  switch (e) {
  case ENODEV: return "ENODEV";
  case ENOENT: return "ENOENT";
  case EACCES: return "EACCES";
  case EPERM: return "EPERM";
  case EBUSY: return "EBUSY";
  case EPIPE: return "EPIPE";
  case ETIMEDOUT: return "ETIMEDOUT";
  case EINVAL: return "EINVAL";
  case ENODATA: return "ENODATA";
  case EPROTO: return "EPROTO";
  case EILSEQ: return "EILSEQ";
  case EOVERFLOW: return "EOVERFLOW";
  case ESHUTDOWN: return "ESHUTDOWN";
  case ENOMEM: return "ENOMEM";
  case EXDEV: return "EXDEV";
  case EAGAIN: return "EAGAIN";
  case ENOSPC: return "ENOSPC";
  case EIO: return "EIO";
  case ECONNRESET: return "ECONNRESET";
  case EREMOTEIO: return "EREMOTEIO";
  case ENOTTY: return "ENOTTY";
  default: return "EUNKNOWN";
  }
}

static napi_value make_errno_error(napi_env env, int e, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s (errno %d)", what, strerror(e), e);
  napi_value code, message, err, num;
  napi_create_string_utf8(env, errno_code(e), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &err);
  napi_create_int32(env, e, &num);
  napi_set_named_property(env, err, "errno", num);
  return err;
}

static void throw_errno(napi_env env, int e, const char *what) { napi_throw(env, make_errno_error(env, e, what)); }

#define CHECK(call)                                                                                                    \
  do {                                                                                                                 \
    if ((call) != napi_ok) {                                                                                           \
      napi_throw_error(env, NULL, "usbfs: N-API call failed: " #call);                                                 \
      return NULL;                                                                                                     \
    }                                                                                                                  \
  } while (0)

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "usbfs: missing arguments");
    return 0;
  }
  return 1;
}

static struct device *get_device(napi_env env, napi_value v) {
  struct device *d = NULL;
  if (napi_get_value_external(env, v, (void **)&d) != napi_ok || d == NULL) {
    napi_throw_type_error(env, NULL, "usbfs: not a device handle");
    return NULL;
  }
  if (d->closed) {
    napi_throw_error(env, "ECLOSED", "usbfs: device handle is closed");
    return NULL;
  }
  return d;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "usbfs: expected a number");
    return 0;
  }
  return 1;
}

/* ---------------------------------------------------------------- open / close */

static void free_handle(uv_handle_t *h) { free(h); }

static void device_shutdown(struct device *d) {
  d->closed = 1;
  d->polling = 0;
  if (d->poll) {
    uv_poll_stop(d->poll);
    uv_close((uv_handle_t *)d->poll, free_handle);
    d->poll = NULL;
  }
  if (d->fd >= 0) close(d->fd);
  d->fd = -1;
}

static void device_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct device *d = data;
  /* The JS handle is gone; running streams hold the TS device object, so none can be left here. */
  if (!d->closed) device_shutdown(d);
  free(d);
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  char path[256];
  size_t len;
  CHECK(napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len));
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    throw_errno(env, errno, path);
    return NULL;
  }
  struct device *d = calloc(1, sizeof *d);
  if (!d) {
    close(fd);
    throw_errno(env, ENOMEM, "usbfs open");
    return NULL;
  }
  d->fd = fd;
  d->env = env;
  napi_value ext;
  CHECK(napi_create_external(env, d, device_finalize, NULL, &ext));
  return ext;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  struct device *d = NULL;
  CHECK(napi_get_value_external(env, argv[0], (void **)&d));
  if (!d || d->closed) return NULL;
  for (struct stream *s = d->streams; s; s = s->next) {
    if (!s->ended) {
      napi_throw_error(env, "EBUSY", "usbfs: close() while a stream is running; stop it first");
      return NULL;
    }
  }
  device_shutdown(d);
  return NULL;
}

/* ---------------------------------------------------------------- simple ioctls */

static napi_value ioctl_u32(napi_env env, napi_callback_info info, unsigned long req, const char *what) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  struct device *d = get_device(env, argv[0]);
  if (!d) return NULL;
  uint32_t n;
  if (!get_u32(env, argv[1], &n)) return NULL;
  unsigned int arg = n;
  if (ioctl(d->fd, req, &arg) < 0) {
    throw_errno(env, errno, what);
    return NULL;
  }
  return NULL;
}

static napi_value js_claim(napi_env env, napi_callback_info info) {
  return ioctl_u32(env, info, USBDEVFS_CLAIMINTERFACE, "USBDEVFS_CLAIMINTERFACE");
}
static napi_value js_release(napi_env env, napi_callback_info info) {
  return ioctl_u32(env, info, USBDEVFS_RELEASEINTERFACE, "USBDEVFS_RELEASEINTERFACE");
}
static napi_value js_clear_halt(napi_env env, napi_callback_info info) {
  return ioctl_u32(env, info, USBDEVFS_CLEAR_HALT, "USBDEVFS_CLEAR_HALT");
}

static napi_value js_set_alt(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  struct device *d = get_device(env, argv[0]);
  if (!d) return NULL;
  uint32_t iface, alt;
  if (!get_u32(env, argv[1], &iface) || !get_u32(env, argv[2], &alt)) return NULL;
  struct usbdevfs_setinterface si = {.interface = iface, .altsetting = alt};
  if (ioctl(d->fd, USBDEVFS_SETINTERFACE, &si) < 0) {
    throw_errno(env, errno, "USBDEVFS_SETINTERFACE");
    return NULL;
  }
  return NULL;
}

/* getDriver(dev, iface) -> driver name or null (ENODATA = no driver bound) */
static napi_value js_get_driver(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  struct device *d = get_device(env, argv[0]);
  if (!d) return NULL;
  uint32_t iface;
  if (!get_u32(env, argv[1], &iface)) return NULL;
  struct usbdevfs_getdriver gd;
  memset(&gd, 0, sizeof gd);
  gd.interface = iface;
  napi_value out;
  if (ioctl(d->fd, USBDEVFS_GETDRIVER, &gd) < 0) {
    if (errno == ENODATA) {
      CHECK(napi_get_null(env, &out));
      return out;
    }
    throw_errno(env, errno, "USBDEVFS_GETDRIVER");
    return NULL;
  }
  gd.driver[sizeof gd.driver - 1] = 0;
  CHECK(napi_create_string_utf8(env, gd.driver, NAPI_AUTO_LENGTH, &out));
  return out;
}

/* disconnect(dev, iface): unbind the kernel driver (USBDEVFS_IOCTL + USBDEVFS_DISCONNECT); connect(dev, iface): rebind. */
static napi_value driver_ioctl(napi_env env, napi_callback_info info, int code, const char *what) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  struct device *d = get_device(env, argv[0]);
  if (!d) return NULL;
  uint32_t iface;
  if (!get_u32(env, argv[1], &iface)) return NULL;
  struct usbdevfs_ioctl cmd = {.ifno = (int)iface, .ioctl_code = code, .data = NULL};
  if (ioctl(d->fd, USBDEVFS_IOCTL, &cmd) < 0) {
    throw_errno(env, errno, what);
    return NULL;
  }
  return NULL;
}
static napi_value js_disconnect(napi_env env, napi_callback_info info) {
  return driver_ioctl(env, info, USBDEVFS_DISCONNECT, "USBDEVFS_DISCONNECT");
}
static napi_value js_connect(napi_env env, napi_callback_info info) {
  return driver_ioctl(env, info, USBDEVFS_CONNECT, "USBDEVFS_CONNECT");
}

/* disconnectClaim(dev, iface): atomically unbind whatever driver holds it and claim it for us. */
static napi_value js_disconnect_claim(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  struct device *d = get_device(env, argv[0]);
  if (!d) return NULL;
  uint32_t iface;
  if (!get_u32(env, argv[1], &iface)) return NULL;
  struct usbdevfs_disconnect_claim dc;
  memset(&dc, 0, sizeof dc);
  dc.interface = iface;
  dc.flags = 0;
  if (ioctl(d->fd, USBDEVFS_DISCONNECT_CLAIM, &dc) < 0) {
    throw_errno(env, errno, "USBDEVFS_DISCONNECT_CLAIM");
    return NULL;
  }
  return NULL;
}

static napi_value js_speed(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  struct device *d = get_device(env, argv[0]);
  if (!d) return NULL;
  int sp = ioctl(d->fd, USBDEVFS_GET_SPEED);
  napi_value out;
  CHECK(napi_create_int32(env, sp < 0 ? 0 : sp, &out));
  return out;
}

static napi_value js_capabilities(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  struct device *d = get_device(env, argv[0]);
  if (!d) return NULL;
  uint32_t caps = 0;
  if (ioctl(d->fd, USBDEVFS_GET_CAPABILITIES, &caps) < 0) caps = 0;
  napi_value out;
  CHECK(napi_create_uint32(env, caps, &out));
  return out;
}

/* ---------------------------------------------------------------- control (threadpool) */

struct control_work {
  napi_async_work work;
  napi_ref cb;
  napi_ref buf_ref;
  int fd;
  struct usbdevfs_ctrltransfer ct;
  int result;
  int err;
};

static void control_execute(napi_env env, void *data) {
  (void)env;
  struct control_work *w = data;
  int r = ioctl(w->fd, USBDEVFS_CONTROL, &w->ct);
  w->result = r;
  w->err = r < 0 ? errno : 0;
}

static void control_complete(napi_env env, napi_status status, void *data) {
  struct control_work *w = data;
  napi_value cb, global, argv[2];
  napi_get_reference_value(env, w->cb, &cb);
  napi_get_global(env, &global);
  if (status != napi_ok) {
    napi_value msg;
    napi_create_string_utf8(env, "usbfs: control transfer cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &argv[0]);
    napi_get_undefined(env, &argv[1]);
  } else if (w->result < 0) {
    argv[0] = make_errno_error(env, w->err, "USBDEVFS_CONTROL");
    napi_get_undefined(env, &argv[1]);
  } else {
    napi_get_null(env, &argv[0]);
    napi_create_int32(env, w->result, &argv[1]);
  }
  napi_delete_reference(env, w->cb);
  napi_delete_reference(env, w->buf_ref);
  napi_delete_async_work(env, w->work);
  free(w);
  napi_call_function(env, global, cb, 2, argv, NULL);
}

/* control(dev, requestType, request, value, index, buffer, timeoutMs, cb(err, actualLength)) */
static napi_value js_control(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!get_args(env, info, 8, argv)) return NULL;
  struct device *d = get_device(env, argv[0]);
  if (!d) return NULL;
  uint32_t rt, rq, val, idx, tmo;
  if (!get_u32(env, argv[1], &rt) || !get_u32(env, argv[2], &rq) || !get_u32(env, argv[3], &val) ||
      !get_u32(env, argv[4], &idx) || !get_u32(env, argv[6], &tmo))
    return NULL;
  void *data = NULL;
  size_t len = 0;
  napi_typedarray_type tt;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, argv[5], &tt, &len, &data, &ab, &off) != napi_ok || tt != napi_uint8_array ||
      len > 0xffff) {
    napi_throw_type_error(env, NULL, "usbfs: control buffer must be a Uint8Array of at most 65535 bytes");
    return NULL;
  }
  struct control_work *w = calloc(1, sizeof *w);
  if (!w) {
    throw_errno(env, ENOMEM, "usbfs control");
    return NULL;
  }
  w->fd = d->fd;
  w->ct.bRequestType = (uint8_t)rt;
  w->ct.bRequest = (uint8_t)rq;
  w->ct.wValue = (uint16_t)val;
  w->ct.wIndex = (uint16_t)idx;
  w->ct.wLength = (uint16_t)len;
  w->ct.timeout = tmo;
  w->ct.data = data;
  napi_create_reference(env, argv[7], 1, &w->cb);
  napi_create_reference(env, argv[5], 1, &w->buf_ref);
  napi_value name;
  napi_create_string_utf8(env, "usbfs.control", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, control_execute, control_complete, w, &w->work);
  napi_queue_async_work(env, w->work);
  return NULL;
}

/* ---------------------------------------------------------------- URB streams */

static void poll_cb(uv_poll_t *h, int status, int events);

static int submit_slot(struct device *d, struct slot *sl) {
  struct stream *s = sl->stream;
  struct usbdevfs_urb *u = sl->urb;
  size_t sz = sizeof *u + (s->type == USBDEVFS_URB_TYPE_ISO ? (size_t)s->packets * sizeof u->iso_frame_desc[0] : 0);
  memset(u, 0, sz);
  u->type = (unsigned char)s->type;
  u->endpoint = (unsigned char)s->endpoint;
  u->buffer = sl->data;
  u->usercontext = sl;
  if (s->type == USBDEVFS_URB_TYPE_ISO) {
    u->flags = USBDEVFS_URB_ISO_ASAP;
    u->number_of_packets = s->packets;
    u->buffer_length = (int)(s->packets * s->packet_size);
    for (int i = 0; i < s->packets; i++) u->iso_frame_desc[i].length = s->packet_size;
  } else {
    u->buffer_length = (int)s->transfer_size;
  }
  if (ioctl(d->fd, USBDEVFS_SUBMITURB, u) < 0) return errno;
  sl->inflight = 1;
  s->inflight++;
  return 0;
}

static void ensure_polling(struct device *d) {
  if (d->polling) return;
  uv_loop_t *loop;
  napi_get_uv_event_loop(d->env, &loop);
  if (!d->poll) {
    d->poll = calloc(1, sizeof *d->poll);
    if (!d->poll) return;
    uv_poll_init(loop, d->poll, d->fd);
    d->poll->data = d;
  }
  uv_poll_start(d->poll, UV_WRITABLE | UV_DISCONNECT, poll_cb);
  d->polling = 1;
}

static void maybe_stop_polling(struct device *d) {
  for (struct stream *s = d->streams; s; s = s->next)
    if (!s->ended) return;
  if (d->polling) {
    uv_poll_stop(d->poll);
    d->polling = 0;
  }
}

/* Calls the stream's JS callback (slot, status, actualLength) inside the stream's async context. Returns 0 when the
 * callback returned exactly `false` (JS keeps the buffer and resubmits it later with streamResubmit), else 1. */
static int call_stream_cb(struct stream *s, int slot, int status, int actual) {
  int resubmit = 1;
  napi_env env = s->dev->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, argv[3], result;
  napi_get_reference_value(env, s->callback, &cb);
  napi_get_global(env, &recv); /* MakeCallback needs an object receiver */
  napi_create_int32(env, slot, &argv[0]);
  napi_create_int32(env, status, &argv[1]);
  napi_create_int32(env, actual, &argv[2]);
  napi_status st = napi_make_callback(env, s->async_ctx, recv, cb, 3, argv, &result);
  if (st == napi_pending_exception) {
    /* The TS side catches everything; an escaping exception is a bug there and must not be swallowed. */
    napi_value ex;
    napi_get_and_clear_last_exception(env, &ex);
    napi_fatal_exception(env, ex);
  } else if (st == napi_ok) {
    napi_valuetype t;
    bool b;
    if (napi_typeof(env, result, &t) == napi_ok && t == napi_boolean && napi_get_value_bool(env, result, &b) == napi_ok &&
        !b)
      resubmit = 0;
  }
  napi_close_handle_scope(env, scope);
  return resubmit;
}

static void stream_release(struct stream *s) {
  napi_env env = s->dev->env;
  for (int i = 0; i < s->nslots; i++) {
    struct slot *sl = &s->slots[i];
    if (sl->data_ref) napi_delete_reference(env, sl->data_ref);
    if (sl->lengths_ref) napi_delete_reference(env, sl->lengths_ref);
    if (sl->statuses_ref) napi_delete_reference(env, sl->statuses_ref);
    free(sl->urb);
    sl->urb = NULL;
    sl->data_ref = sl->lengths_ref = sl->statuses_ref = NULL;
  }
  napi_delete_reference(env, s->callback);
  napi_async_destroy(env, s->async_ctx);
  if (s->self) napi_delete_reference(env, s->self);
  s->self = NULL;
}

/* When the last URB is back and the stream is stopping: unlink, tell JS (slot -1), release references. */
static void stream_maybe_end(struct stream *s) {
  if (s->ended || s->inflight > 0 || !s->stopping) return;
  s->ended = 1;
  struct device *d = s->dev;
  for (struct stream **pp = &d->streams; *pp; pp = &(*pp)->next) {
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  }
  call_stream_cb(s, -1, 0, 0);
  stream_release(s);
  maybe_stop_polling(d);
}

static void device_gone(struct device *d) {
  d->gone = 1;
  /* The kernel has given back every URB it will ever give back; whatever is still marked in flight is lost with the
   * device. Report each as ENODEV so JS completes its frames, then end the streams. */
  struct stream *s = d->streams;
  while (s) {
    struct stream *next = s->next;
    s->stopping = 1;
    for (int i = 0; i < s->nslots; i++) {
      struct slot *sl = &s->slots[i];
      if (sl->inflight) {
        sl->inflight = 0;
        s->inflight--;
        call_stream_cb(s, i, -ENODEV, 0);
      }
    }
    stream_maybe_end(s);
    s = next;
  }
  if (d->polling) {
    uv_poll_stop(d->poll);
    d->polling = 0;
  }
}

static void poll_cb(uv_poll_t *h, int status, int events) {
  (void)events;
  struct device *d = h->data;
  if (d->closed) return;
  (void)status;
  for (;;) {
    struct usbdevfs_urb *u = NULL;
    if (ioctl(d->fd, USBDEVFS_REAPURBNDELAY, &u) < 0) {
      int e = errno;
      if (e == EAGAIN) return;
      if (e == EINTR) continue;
      device_gone(d); /* ENODEV (or anything else: the fd is unusable) */
      return;
    }
    struct slot *sl = u->usercontext;
    struct stream *s = sl->stream;
    sl->inflight = 0;
    s->inflight--;
    int st = u->status;
    int actual = u->actual_length;
    if (s->type == USBDEVFS_URB_TYPE_ISO && sl->lengths) {
      actual = 0;
      for (int i = 0; i < s->packets; i++) {
        sl->lengths[i] = u->iso_frame_desc[i].actual_length;
        sl->statuses[i] = (int32_t)u->iso_frame_desc[i].status;
        actual += (int)u->iso_frame_desc[i].actual_length;
      }
    }
    int resubmit = 1;
    if (!(s->stopping && (st == -ENOENT || st == -ECONNRESET))) resubmit = call_stream_cb(s, sl->index, st, actual);
    if (d->closed) return;
    int fatal = st == -ENODEV || st == -ESHUTDOWN || st == -EPIPE;
    if (fatal) s->stopping = 1; /* JS saw the status; a stalled or vanished endpoint cannot continue */
    if (!s->stopping && resubmit) {
      int e = submit_slot(d, sl);
      if (e) {
        s->stopping = 1;
        call_stream_cb(s, sl->index, -e, 0);
      }
    }
    stream_maybe_end(s);
  }
}

static void stream_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data); /* only reachable once ended: until then s->self keeps the external alive */
}

/* streamStart(dev, type, endpoint, buffers[], transferSize, packets, packetSize, lengths[]|null, statuses[]|null,
 *             cb(slot, status, actual)) -> stream handle. status: 0 or -errno; slot -1 = ended. */
static napi_value js_stream_start(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  if (!get_args(env, info, 10, argv)) return NULL;
  struct device *d = get_device(env, argv[0]);
  if (!d) return NULL;
  if (d->gone) {
    throw_errno(env, ENODEV, "usbfs stream");
    return NULL;
  }
  uint32_t type, ep, tsize, packets, psize, nbuf;
  if (!get_u32(env, argv[1], &type) || !get_u32(env, argv[2], &ep) || !get_u32(env, argv[4], &tsize) ||
      !get_u32(env, argv[5], &packets) || !get_u32(env, argv[6], &psize))
    return NULL;
  CHECK(napi_get_array_length(env, argv[3], &nbuf));
  if (nbuf < 1 || nbuf > MAX_SLOTS) {
    napi_throw_range_error(env, NULL, "usbfs: 1..256 buffers");
    return NULL;
  }
  int iso = type == USBDEVFS_URB_TYPE_ISO;
  if (iso && (packets < 1 || packets > 1024 || psize < 1)) {
    napi_throw_range_error(env, NULL, "usbfs: iso needs 1..1024 packets and a packet size");
    return NULL;
  }
  size_t need = iso ? (size_t)packets * psize : tsize;
  struct stream *s = calloc(1, sizeof *s);
  if (!s) {
    throw_errno(env, ENOMEM, "usbfs stream");
    return NULL;
  }
  s->dev = d;
  s->type = (int)type;
  s->endpoint = ep;
  s->packets = (int)packets;
  s->packet_size = psize;
  s->transfer_size = need;
  s->nslots = (int)nbuf;
  for (uint32_t i = 0; i < nbuf; i++) {
    struct slot *sl = &s->slots[i];
    sl->stream = s;
    sl->index = (int)i;
    napi_value b;
    napi_get_element(env, argv[3], i, &b);
    napi_typedarray_type tt;
    size_t len, off;
    void *p;
    napi_value ab;
    if (napi_get_typedarray_info(env, b, &tt, &len, &p, &ab, &off) != napi_ok || tt != napi_uint8_array ||
        len < need) {
      s->nslots = (int)i;
      stream_release(s);
      free(s);
      napi_throw_range_error(env, NULL, "usbfs: every buffer must be a Uint8Array of at least the transfer size");
      return NULL;
    }
    sl->data = p;
    sl->data_len = len;
    napi_create_reference(env, b, 1, &sl->data_ref);
    sl->urb = calloc(1, sizeof(struct usbdevfs_urb) + (iso ? packets * sizeof(struct usbdevfs_iso_packet_desc) : 0));
    if (iso) {
      napi_value la, sa;
      napi_get_element(env, argv[7], i, &la);
      napi_get_element(env, argv[8], i, &sa);
      void *lp, *sp;
      size_t ll, sl2;
      napi_typedarray_type t1, t2;
      if (napi_get_typedarray_info(env, la, &t1, &ll, &lp, &ab, &off) != napi_ok || t1 != napi_uint32_array ||
          ll < packets || napi_get_typedarray_info(env, sa, &t2, &sl2, &sp, &ab, &off) != napi_ok ||
          t2 != napi_int32_array || sl2 < packets) {
        s->nslots = (int)i + 1;
        stream_release(s);
        free(s);
        napi_throw_range_error(env, NULL, "usbfs: iso needs per-slot Uint32Array lengths and Int32Array statuses");
        return NULL;
      }
      sl->lengths = lp;
      sl->statuses = sp;
      napi_create_reference(env, la, 1, &sl->lengths_ref);
      napi_create_reference(env, sa, 1, &sl->statuses_ref);
    }
  }
  napi_create_reference(env, argv[9], 1, &s->callback);
  napi_value name;
  napi_create_string_utf8(env, "usbfs.stream", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->async_ctx);
  /* Submit everything; a failure on the first URB is a synchronous error, later ones end the stream. */
  for (int i = 0; i < s->nslots; i++) {
    int e = submit_slot(d, &s->slots[i]);
    if (e) {
      if (i == 0) {
        stream_release(s);
        free(s);
        throw_errno(env, e, "USBDEVFS_SUBMITURB");
        return NULL;
      }
      s->stopping = 1;
      for (int j = 0; j < i; j++) ioctl(d->fd, USBDEVFS_DISCARDURB, s->slots[j].urb);
      break;
    }
  }
  s->next = d->streams;
  d->streams = s;
  ensure_polling(d);
  napi_value ext;
  CHECK(napi_create_external(env, s, stream_finalize, NULL, &ext));
  napi_create_reference(env, ext, 1, &s->self);
  return ext;
}

/* streamStop(stream): discard every URB in flight; the stream ends (callback slot -1) once all are reaped. */
static napi_value js_stream_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  struct stream *s = NULL;
  CHECK(napi_get_value_external(env, argv[0], (void **)&s));
  if (!s || s->ended || s->stopping) return NULL;
  s->stopping = 1;
  for (int i = 0; i < s->nslots; i++)
    if (s->slots[i].inflight) ioctl(s->dev->fd, USBDEVFS_DISCARDURB, s->slots[i].urb); /* EINVAL: already done */
  stream_maybe_end(s);
  return NULL;
}

/* streamResubmit(stream, slot): give back a buffer JS held (its callback returned false). No-op once stopping. */
static napi_value js_stream_resubmit(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  struct stream *s = NULL;
  CHECK(napi_get_value_external(env, argv[0], (void **)&s));
  uint32_t idx;
  if (!get_u32(env, argv[1], &idx)) return NULL;
  if (!s || idx >= (uint32_t)s->nslots) {
    napi_throw_range_error(env, NULL, "usbfs: bad slot");
    return NULL;
  }
  if (s->ended || s->stopping || s->slots[idx].inflight) return NULL;
  int e = submit_slot(s->dev, &s->slots[idx]);
  if (e) {
    s->stopping = 1;
    call_stream_cb(s, (int)idx, -e, 0);
    stream_maybe_end(s);
  }
  return NULL;
}

/* ---------------------------------------------------------------- module */

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"claim", NULL, js_claim, NULL, NULL, NULL, napi_default, NULL},
      {"release", NULL, js_release, NULL, NULL, NULL, napi_default, NULL},
      {"setAlt", NULL, js_set_alt, NULL, NULL, NULL, napi_default, NULL},
      {"clearHalt", NULL, js_clear_halt, NULL, NULL, NULL, napi_default, NULL},
      {"getDriver", NULL, js_get_driver, NULL, NULL, NULL, napi_default, NULL},
      {"disconnect", NULL, js_disconnect, NULL, NULL, NULL, napi_default, NULL},
      {"connect", NULL, js_connect, NULL, NULL, NULL, napi_default, NULL},
      {"disconnectClaim", NULL, js_disconnect_claim, NULL, NULL, NULL, napi_default, NULL},
      {"speed", NULL, js_speed, NULL, NULL, NULL, napi_default, NULL},
      {"capabilities", NULL, js_capabilities, NULL, NULL, NULL, napi_default, NULL},
      {"control", NULL, js_control, NULL, NULL, NULL, napi_default, NULL},
      {"streamStart", NULL, js_stream_start, NULL, NULL, NULL, napi_default, NULL},
      {"streamStop", NULL, js_stream_stop, NULL, NULL, NULL, napi_default, NULL},
      {"streamResubmit", NULL, js_stream_resubmit, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
