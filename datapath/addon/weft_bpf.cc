// The native door to the kernel: a thin N-API layer over Debian's libbpf. Policy lives in
// TypeScript (datapath/libbpf-datapath.ts); this file only opens, loads, pins, attaches, reads and
// writes maps, runs BPF_PROG_TEST_RUN, and consumes ring buffers from the libuv loop.
#include <napi.h>
#include <uv.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>
#include <stdarg.h>
#include <string.h>
#include <string>
#include <vector>

namespace {

// libbpf reports through a print callback; while an operation runs we keep its messages
// (the verifier log among them) to put into the error.
std::string g_log;
bool g_capture = false;

int print_fn(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (!g_capture || level == LIBBPF_DEBUG) return 0;
  // The verifier log comes in one message of up to megabytes, its verdict at the end: keep it whole.
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n <= 0 || g_log.size() >= (1 << 22)) return 0;
  std::string buf(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(buf.data(), buf.size(), fmt, args);
  g_log.append(buf.data(), static_cast<size_t>(n));
  return 0;
}

struct Capture {
  Capture() { g_log.clear(); g_capture = true; }
  ~Capture() { g_capture = false; }
};

Napi::Value Throw(Napi::Env env, const std::string& what, int err, const std::string& log = "") {
  int e = err < 0 ? -err : err;
  std::string msg = what + ": " + strerror(e);
  Napi::Error error = Napi::Error::New(env, msg);
  error.Set("errno", Napi::Number::New(env, e));
  error.Set("log", Napi::String::New(env, log));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

int FdArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

// ---- objects ----

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "BpfObject", {
      InstanceMethod("mapFd", &BpfObject::MapFd),
      InstanceMethod("progFd", &BpfObject::ProgFd),
      InstanceMethod("close", &BpfObject::Close),
    });
  }

  // new BpfObject(path, pinRoot, { mapName: maxEntries })
  BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info) {
    Napi::Env env = info.Env();
    std::string path = info[0].As<Napi::String>();
    std::string pin_root = info[1].As<Napi::String>();
    Napi::Object sizes = info[2].As<Napi::Object>();
    Capture cap;
    LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root.c_str());
    obj_ = bpf_object__open_file(path.c_str(), &opts);
    if (!obj_) {
      int err = -errno;
      obj_ = nullptr;
      Throw(env, "open " + path, err, g_log);
      return;
    }
    Napi::Array names = sizes.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string name = names.Get(i).As<Napi::String>();
      struct bpf_map* m = bpf_object__find_map_by_name(obj_, name.c_str());
      if (!m) continue;
      int err = bpf_map__set_max_entries(m, sizes.Get(name).As<Napi::Number>().Uint32Value());
      if (err) { Throw(env, "set max_entries of " + name, err, g_log); return; }
    }
    int err = bpf_object__load(obj_);
    if (err) {
      std::string log = g_log;
      bpf_object__close(obj_);
      obj_ = nullptr;
      Throw(env, "load " + path, err, log);
    }
  }

  ~BpfObject() override {
    if (obj_) bpf_object__close(obj_);
  }

 private:
  Napi::Value MapFd(const Napi::CallbackInfo& info) {
    std::string name = info[0].As<Napi::String>();
    struct bpf_map* m = obj_ ? bpf_object__find_map_by_name(obj_, name.c_str()) : nullptr;
    if (!m) return Throw(info.Env(), "no map " + name, ENOENT);
    return Napi::Number::New(info.Env(), bpf_map__fd(m));
  }

  Napi::Value ProgFd(const Napi::CallbackInfo& info) {
    std::string name = info[0].As<Napi::String>();
    struct bpf_program* p = obj_ ? bpf_object__find_program_by_name(obj_, name.c_str()) : nullptr;
    if (!p) return Throw(info.Env(), "no program " + name, ENOENT);
    return Napi::Number::New(info.Env(), bpf_program__fd(p));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (obj_) bpf_object__close(obj_);
    obj_ = nullptr;
    return info.Env().Undefined();
  }

  struct bpf_object* obj_ = nullptr;
};

// ---- maps ----

// mapLookup(fd, key, valueSize) -> Buffer | null
Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  Napi::Buffer<uint8_t> key = info[1].As<Napi::Buffer<uint8_t>>();
  size_t size = info[2].As<Napi::Number>().Uint32Value();
  Napi::Buffer<uint8_t> value = Napi::Buffer<uint8_t>::New(info.Env(), size);
  if (bpf_map_lookup_elem(FdArg(info, 0), key.Data(), value.Data())) {
    if (errno == ENOENT) return info.Env().Null();
    return Throw(info.Env(), "map lookup", errno);
  }
  return value;
}

// mapUpdate(fd, key, value, flags)
Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Buffer<uint8_t> key = info[1].As<Napi::Buffer<uint8_t>>();
  Napi::Buffer<uint8_t> value = info[2].As<Napi::Buffer<uint8_t>>();
  if (bpf_map_update_elem(FdArg(info, 0), key.Data(), value.Data(), info[3].As<Napi::Number>().Int64Value()))
    return Throw(info.Env(), "map update", errno);
  return info.Env().Undefined();
}

// mapDelete(fd, key) -> boolean (false: there was no such key)
Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  Napi::Buffer<uint8_t> key = info[1].As<Napi::Buffer<uint8_t>>();
  if (bpf_map_delete_elem(FdArg(info, 0), key.Data())) {
    if (errno == ENOENT) return Napi::Boolean::New(info.Env(), false);
    return Throw(info.Env(), "map delete", errno);
  }
  return Napi::Boolean::New(info.Env(), true);
}

// mapKeys(fd, keySize) -> Buffer of all keys, concatenated (works for every map type, LPM tries too)
Napi::Value MapKeys(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  size_t ks = info[1].As<Napi::Number>().Uint32Value();
  std::vector<uint8_t> all;
  std::vector<uint8_t> cur(ks), next(ks);
  const void* prev = nullptr;
  for (;;) {
    if (bpf_map_get_next_key(fd, prev, next.data())) {
      if (errno == ENOENT) break;
      return Throw(info.Env(), "map get_next_key", errno);
    }
    all.insert(all.end(), next.begin(), next.end());
    cur.swap(next);
    prev = cur.data();
  }
  return Napi::Buffer<uint8_t>::Copy(info.Env(), all.data(), all.size());
}

// mapUpdateBatch(fd, keys, values, count, flags): one syscall for many entries (hash, array)
Napi::Value MapUpdateBatch(const Napi::CallbackInfo& info) {
  Napi::Buffer<uint8_t> keys = info[1].As<Napi::Buffer<uint8_t>>();
  Napi::Buffer<uint8_t> values = info[2].As<Napi::Buffer<uint8_t>>();
  __u32 count = info[3].As<Napi::Number>().Uint32Value();
  LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = (__u64)info[4].As<Napi::Number>().Int64Value());
  if (count && bpf_map_update_batch(FdArg(info, 0), keys.Data(), values.Data(), &count, &opts))
    return Throw(info.Env(), "map update batch", errno);
  return Napi::Number::New(info.Env(), count);
}

// mapDeleteBatch(fd, keys, count)
Napi::Value MapDeleteBatch(const Napi::CallbackInfo& info) {
  Napi::Buffer<uint8_t> keys = info[1].As<Napi::Buffer<uint8_t>>();
  __u32 count = info[2].As<Napi::Number>().Uint32Value();
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  if (count && bpf_map_delete_batch(FdArg(info, 0), keys.Data(), &count, &opts))
    return Throw(info.Env(), "map delete batch", errno);
  return Napi::Number::New(info.Env(), count);
}

// synchronizeRcu() -> Promise: settles once every BPF program run that had begun has ended.
// Programs run in RCU read-side sections and MEMBARRIER_CMD_GLOBAL waits for an RCU grace period
// (milliseconds), so it runs on the libuv thread pool, not on the JavaScript thread.
class RcuGrace : public Napi::AsyncWorker {
 public:
  explicit RcuGrace(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0)) err_ = errno;
  }
  void OnOK() override {
    if (!err_) {
      deferred_.Resolve(Env().Undefined());
      return;
    }
    Napi::Error e = Napi::Error::New(Env(), std::string("membarrier(MEMBARRIER_CMD_GLOBAL): ") + strerror(err_));
    e.Set("errno", Napi::Number::New(Env(), err_));
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  int err_ = 0;
};

Napi::Value SynchronizeRcu(const Napi::CallbackInfo& info) {
  auto* w = new RcuGrace(info.Env());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), libbpf_num_possible_cpus());
}

// ---- tc ----

// tc speaks netlink in the calling thread's network namespace. When the host-side interfaces live
// in another namespace (a node simulated in a netns), switch this thread there for the call.
struct NetnsGuard {
  int orig = -1;
  int err = 0;
  explicit NetnsGuard(const Napi::Value& path) {
    if (!path.IsString()) return;
    std::string p = path.As<Napi::String>();
    orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (orig < 0 || fd < 0 || setns(fd, CLONE_NEWNET)) err = errno ? errno : EINVAL;
    if (fd >= 0) close(fd);
  }
  ~NetnsGuard() {
    if (orig >= 0) {
      setns(orig, CLONE_NEWNET);
      close(orig);
    }
  }
};

bool HookOf(const Napi::CallbackInfo& info, struct bpf_tc_hook* hook) {
  hook->ifindex = FdArg(info, 0);
  std::string point = info[1].As<Napi::String>();
  hook->attach_point = point == "ingress" ? BPF_TC_INGRESS : BPF_TC_EGRESS;
  return true;
}

// tcAttach(ifindex, 'ingress' | 'egress', progFd, handle, priority, netnsPath?): creates clsact when missing,
// replaces our filter atomically when present (a restarted agent swaps programs without a gap).
Napi::Value TcAttach(const Napi::CallbackInfo& info) {
  Capture cap;
  NetnsGuard ns(info[5]);
  if (ns.err) return Throw(info.Env(), "enter network namespace", ns.err);
  LIBBPF_OPTS(bpf_tc_hook, hook);
  HookOf(info, &hook);
  int err = bpf_tc_hook_create(&hook);
  if (err && err != -EEXIST) return Throw(info.Env(), "create clsact qdisc", err, g_log);
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = FdArg(info, 2), .flags = BPF_TC_F_REPLACE,
              .handle = info[3].As<Napi::Number>().Uint32Value(), .priority = info[4].As<Napi::Number>().Uint32Value());
  err = bpf_tc_attach(&hook, &opts);
  if (err) return Throw(info.Env(), "tc attach", err, g_log);
  return Napi::Number::New(info.Env(), opts.prog_id);
}

// Our filter, named by (ifindex, point, handle, priority) in the optional namespace, handed to op.
template <typename Op>
Napi::Value WithFilter(const Napi::CallbackInfo& info, Op op) {
  Capture cap;
  NetnsGuard ns(info[4]);
  if (ns.err) return Throw(info.Env(), "enter network namespace", ns.err);
  LIBBPF_OPTS(bpf_tc_hook, hook);
  HookOf(info, &hook);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = info[2].As<Napi::Number>().Uint32Value(), .priority = info[3].As<Napi::Number>().Uint32Value());
  return op(&hook, &opts);
}

// tcDetach(ifindex, point, handle, priority, netnsPath?) -> boolean (false: nothing was attached)
Napi::Value TcDetach(const Napi::CallbackInfo& info) {
  return WithFilter(info, [&](bpf_tc_hook* hook, bpf_tc_opts* opts) -> Napi::Value {
    int err = bpf_tc_detach(hook, opts);
    if (err == -ENOENT || err == -ENODEV || err == -EINVAL) return Napi::Boolean::New(info.Env(), false);
    if (err) return Throw(info.Env(), "tc detach", err, g_log);
    return Napi::Boolean::New(info.Env(), true);
  });
}

// netLinks(netnsPath?) -> ifindex of every interface in the namespace
Napi::Value NetLinks(const Napi::CallbackInfo& info) {
  NetnsGuard ns(info[0]);
  if (ns.err) return Throw(info.Env(), "enter network namespace", ns.err);
  struct if_nameindex* all = if_nameindex();
  if (!all) return Throw(info.Env(), "list interfaces", errno);
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t n = 0;
  for (struct if_nameindex* i = all; i->if_index; i++) out.Set(n++, Napi::Number::New(info.Env(), i->if_index));
  if_freenameindex(all);
  return out;
}

// tcQuery(ifindex, point, handle, priority, netnsPath?) -> attached program id, 0 when none
Napi::Value TcQuery(const Napi::CallbackInfo& info) {
  return WithFilter(info, [&](bpf_tc_hook* hook, bpf_tc_opts* opts) -> Napi::Value {
    return Napi::Number::New(info.Env(), bpf_tc_query(hook, opts) ? 0 : opts->prog_id);
  });
}

// objectLayout(path) -> string[]: what a pinned map set depends on, one line per map (name, type,
// key/value size, flags; not max_entries, which is configuration) and per program (name, section).
// The object is only opened, not loaded. TypeScript hashes this into the pin root's layout name.
Napi::Value ObjectLayout(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  Capture cap;
  struct bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
  if (!obj) return Throw(info.Env(), "open " + path, -errno, g_log);
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t n = 0;
  struct bpf_map* m;
  bpf_object__for_each_map(m, obj) {
    if (bpf_map__is_internal(m)) continue;
    out.Set(n++, "map " + std::string(bpf_map__name(m)) + " type=" + std::to_string(bpf_map__type(m)) + " key=" +
                     std::to_string(bpf_map__key_size(m)) + " value=" + std::to_string(bpf_map__value_size(m)) +
                     " flags=" + std::to_string(bpf_map__map_flags(m)));
  }
  struct bpf_program* p;
  bpf_object__for_each_program(p, obj) {
    out.Set(n++, "prog " + std::string(bpf_program__name(p)) + " section=" + bpf_program__section_name(p));
  }
  bpf_object__close(obj);
  return out;
}

// objGet(path) -> fd of the object pinned there (the caller closes it with closeFd)
Napi::Value ObjGet(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return Throw(info.Env(), "open pinned object " + path, errno);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  close(FdArg(info, 0));
  return info.Env().Undefined();
}

// mapInfo(fd) -> { id, type, keySize, valueSize }
Napi::Value MapInfo(const Napi::CallbackInfo& info) {
  struct bpf_map_info mi = {};
  __u32 len = sizeof(mi);
  if (bpf_obj_get_info_by_fd(FdArg(info, 0), &mi, &len)) return Throw(info.Env(), "map info", errno);
  Napi::Object r = Napi::Object::New(info.Env());
  r.Set("id", Napi::Number::New(info.Env(), mi.id));
  r.Set("type", Napi::Number::New(info.Env(), mi.type));
  r.Set("keySize", Napi::Number::New(info.Env(), mi.key_size));
  r.Set("valueSize", Napi::Number::New(info.Env(), mi.value_size));
  return r;
}

// progMapIds(progId) -> ids of the maps the program uses ([] when the program is gone)
Napi::Value ProgMapIds(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env());
  int fd = bpf_prog_get_fd_by_id(info[0].As<Napi::Number>().Uint32Value());
  if (fd < 0) return out;
  std::vector<__u32> ids(64);
  struct bpf_prog_info pi = {};
  pi.nr_map_ids = ids.size();
  pi.map_ids = (__u64)(uintptr_t)ids.data();
  __u32 len = sizeof(pi);
  int err = bpf_obj_get_info_by_fd(fd, &pi, &len);
  close(fd);
  if (err) return Throw(info.Env(), "program info", errno);
  for (__u32 i = 0; i < std::min<__u32>(pi.nr_map_ids, ids.size()); i++) out.Set(i, Napi::Number::New(info.Env(), ids[i]));
  return out;
}

// ---- BPF_PROG_TEST_RUN ----

// testRun(progFd, packet, repeat) -> { retval, durationNs (mean per run), data }
Napi::Value TestRun(const Napi::CallbackInfo& info) {
  Napi::Buffer<uint8_t> in = info[1].As<Napi::Buffer<uint8_t>>();
  std::vector<uint8_t> out(in.Length() + 256);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.Data(), .data_out = out.data(), .data_size_in = (__u32)in.Length(),
              .data_size_out = (__u32)out.size(), .repeat = info[2].As<Napi::Number>().Int32Value());
  int err = bpf_prog_test_run_opts(FdArg(info, 0), &opts);
  if (err) return Throw(info.Env(), "BPF_PROG_TEST_RUN", errno);
  Napi::Object r = Napi::Object::New(info.Env());
  r.Set("retval", Napi::Number::New(info.Env(), opts.retval));
  r.Set("durationNs", Napi::Number::New(info.Env(), opts.duration));
  r.Set("data", Napi::Buffer<uint8_t>::Copy(info.Env(), out.data(), opts.data_size_out));
  return r;
}

// ---- ring buffer ----

// The ring buffer's epoll fd sits in the libuv loop (uv_poll): no busy polling, no thread.
// When it is readable we drain every record and hand them to JS in one call.
class RingBuffer : public Napi::ObjectWrap<RingBuffer> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "RingBuffer", {
      InstanceMethod("close", &RingBuffer::Close),
      InstanceMethod("ref", &RingBuffer::Ref),
      InstanceMethod("unref", &RingBuffer::Unref),
      InstanceMethod("drain", &RingBuffer::Drain),
    });
  }

  // new RingBuffer(mapFd, (records: Buffer[]) => void)
  RingBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RingBuffer>(info) {
    Napi::Env env = info.Env();
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    rb_ = ring_buffer__new(FdArg(info, 0), &RingBuffer::OnSample, this, nullptr);
    if (!rb_) { Throw(env, "ring_buffer__new", errno); return; }
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    uv_poll_init(loop, poll_, ring_buffer__epoll_fd(rb_));
    uv_poll_start(poll_, UV_READABLE, &RingBuffer::OnReadable);
    env_ = env;
  }

  ~RingBuffer() override { Stop(); }

 private:
  static int OnSample(void* ctx, void* data, size_t size) {
    auto* self = static_cast<RingBuffer*>(ctx);
    self->pending_.emplace_back(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    return 0;
  }

  static void OnReadable(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<RingBuffer*>(handle->data);
    if (status < 0 || !self->rb_) return;
    Napi::HandleScope scope(self->env_);
    self->Deliver();
  }

  void Deliver() {
    ring_buffer__consume(rb_);
    if (pending_.empty()) return;
    Napi::Array arr = Napi::Array::New(env_, pending_.size());
    for (size_t i = 0; i < pending_.size(); i++) arr.Set(i, Napi::Buffer<uint8_t>::Copy(env_, pending_[i].data(), pending_[i].size()));
    pending_.clear();
    callback_.MakeCallback(env_.Global(), {arr});
  }

  Napi::Value Drain(const Napi::CallbackInfo& info) {
    if (rb_) Deliver();
    return info.Env().Undefined();
  }

  void Stop() {
    if (poll_) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (rb_) ring_buffer__free(rb_);
    rb_ = nullptr;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop();
    callback_.Reset();
    return info.Env().Undefined();
  }

  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (poll_) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (poll_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  struct ring_buffer* rb_ = nullptr;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::Env env_ = nullptr;
  std::vector<std::vector<uint8_t>> pending_;
};

Napi::Value LibbpfVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), libbpf_version_string());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  libbpf_set_print(print_fn);
  libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
  exports.Set("BpfObject", BpfObject::Init(env));
  exports.Set("RingBuffer", RingBuffer::Init(env));
  exports.Set("mapLookup", Napi::Function::New(env, MapLookup));
  exports.Set("mapUpdate", Napi::Function::New(env, MapUpdate));
  exports.Set("mapDelete", Napi::Function::New(env, MapDelete));
  exports.Set("mapKeys", Napi::Function::New(env, MapKeys));
  exports.Set("mapUpdateBatch", Napi::Function::New(env, MapUpdateBatch));
  exports.Set("mapDeleteBatch", Napi::Function::New(env, MapDeleteBatch));
  exports.Set("synchronizeRcu", Napi::Function::New(env, SynchronizeRcu));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpus));
  exports.Set("tcAttach", Napi::Function::New(env, TcAttach));
  exports.Set("tcDetach", Napi::Function::New(env, TcDetach));
  exports.Set("tcQuery", Napi::Function::New(env, TcQuery));
  exports.Set("netLinks", Napi::Function::New(env, NetLinks));
  exports.Set("objectLayout", Napi::Function::New(env, ObjectLayout));
  exports.Set("objGet", Napi::Function::New(env, ObjGet));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("mapInfo", Napi::Function::New(env, MapInfo));
  exports.Set("progMapIds", Napi::Function::New(env, ProgMapIds));
  exports.Set("testRun", Napi::Function::New(env, TestRun));
  exports.Set("libbpfVersion", Napi::Function::New(env, LibbpfVersion));
  return exports;
}

}  // namespace

NODE_API_MODULE(weft_bpf, Init)
