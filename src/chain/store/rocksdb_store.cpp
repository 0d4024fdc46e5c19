#include "chain/store/rocksdb_store.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>

#include "common/bytes.h"

namespace chain::store {

namespace {
constexpr std::string_view kStatePrefix = "s/";
constexpr std::string_view kAuxPrefix = "a/";
constexpr std::string_view kMetaHeight = "m/height";
constexpr std::string_view kMetaAppHash = "m/app_hash";

std::string with_prefix(std::string_view prefix, std::string_view key) {
  std::string out(prefix);
  out.append(key);
  return out;
}

void check(const rocksdb::Status& st, const std::string& what) {
  if (!st.ok()) throw std::runtime_error("rocksdb " + what + ": " + st.ToString());
}

void scan_db(rocksdb::DB* db, const rocksdb::Snapshot* snap, std::string_view prefix, std::string_view start,
             std::string_view end, const ScanFn& fn) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  std::string lower = with_prefix(prefix, start);
  std::string upper = end.empty() ? prefix_end(prefix) : with_prefix(prefix, end);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
  for (it->Seek(lower); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    key.remove_prefix(prefix.size());
    if (!fn(key, std::string_view(it->value().data(), it->value().size()))) break;
  }
  check(it->status(), "iterate");
}

class SnapshotReader final : public KvReader {
 public:
  SnapshotReader(rocksdb::DB* db) : db_(db), snap_(db->GetSnapshot()) {}
  ~SnapshotReader() override { db_->ReleaseSnapshot(snap_); }
  std::optional<std::string> get(std::string_view key) const override {
    rocksdb::ReadOptions ro;
    ro.snapshot = snap_;
    std::string value;
    auto st = db_->Get(ro, with_prefix(kStatePrefix, key), &value);
    if (st.IsNotFound()) return std::nullopt;
    check(st, "get");
    return value;
  }
  void scan(std::string_view start, std::string_view end, const ScanFn& fn) const override {
    scan_db(db_, snap_, kStatePrefix, start, end, fn);
  }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
};
}  // namespace

struct RocksDbStore::Impl {
  std::unique_ptr<rocksdb::DB> db;
  mutable std::mutex info_mu;
  CommitInfo info;  // mirror of the committed metadata, so hot paths need no database read
  uint64_t history = 0;
  // height -> snapshot taken right after that commit (under info_mu, so no other commit lies between).
  std::map<uint64_t, std::shared_ptr<const KvReader>> kept;
  void keep_current_locked() {
    kept[info.height] = std::make_shared<SnapshotReader>(db.get());
    while (kept.size() > history + 1) kept.erase(kept.begin());
  }
  std::optional<std::string> get_raw(const std::string& key) const {
    std::string value;
    auto st = db->Get(rocksdb::ReadOptions(), key, &value);
    if (st.IsNotFound()) return std::nullopt;
    check(st, "get");
    return value;
  }
};

RocksDbStore::RocksDbStore(const std::string& path, uint64_t history) : impl_(std::make_unique<Impl>()) {
  impl_->history = history;
  rocksdb::Options options;
  options.create_if_missing = true;
  options.IncreaseParallelism(2);
  rocksdb::DB* db = nullptr;
  auto st = rocksdb::DB::Open(options, path, &db);
  if (!st.ok()) {
    throw std::runtime_error("cannot open the state database at " + path + ": " + st.ToString() +
                             " (is another inferenced running with this --home?)");
  }
  impl_->db.reset(db);
  if (auto h = impl_->get_raw(std::string(kMetaHeight)); h && h->size() == 8)
    impl_->info.height = common::get_be64(*h);
  if (auto a = impl_->get_raw(std::string(kMetaAppHash))) impl_->info.app_hash = *a;
  if (impl_->history > 0) impl_->keep_current_locked();
}

RocksDbStore::~RocksDbStore() {
  if (impl_) impl_->kept.clear();  // release the snapshots before the database closes
}

std::optional<std::string> RocksDbStore::get(std::string_view key) const {
  return impl_->get_raw(with_prefix(kStatePrefix, key));
}

void RocksDbStore::scan(std::string_view start, std::string_view end, const ScanFn& fn) const {
  scan_db(impl_->db.get(), nullptr, kStatePrefix, start, end, fn);
}

CommitInfo RocksDbStore::last_commit() const {
  std::lock_guard lock(impl_->info_mu);
  return impl_->info;
}

void RocksDbStore::commit(const WriteSet& state, const CommitInfo& info, const WriteSet& aux) {
  rocksdb::WriteBatch batch;
  auto apply = [&](std::string_view prefix, const WriteSet& writes) {
    for (auto& [key, value] : writes) {
      if (value) {
        batch.Put(with_prefix(prefix, key), *value);
      } else {
        batch.Delete(with_prefix(prefix, key));
      }
    }
  };
  apply(kStatePrefix, state);
  apply(kAuxPrefix, aux);
  batch.Put(std::string(kMetaHeight), common::be64(info.height));
  batch.Put(std::string(kMetaAppHash), info.app_hash);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  // Held across the write: a view taken for the previous height must not see this block's writes.
  std::lock_guard lock(impl_->info_mu);
  check(impl_->db->Write(wo, &batch), "commit");
  impl_->info = info;
  if (impl_->history > 0) impl_->keep_current_locked();
}

std::optional<CommitStore::StateView> RocksDbStore::state_at(uint64_t height) const {
  std::lock_guard lock(impl_->info_mu);
  if (height == 0) height = impl_->info.height;
  if (auto it = impl_->kept.find(height); it != impl_->kept.end()) return StateView{height, it->second};
  // Without history the latest state is still answerable: a fresh snapshot is the state of the last commit
  // because commit() holds info_mu across its write.
  if (height == impl_->info.height)
    return StateView{height, std::make_shared<SnapshotReader>(impl_->db.get())};
  return std::nullopt;
}

uint64_t RocksDbStore::oldest_kept_height() const {
  std::lock_guard lock(impl_->info_mu);
  return impl_->kept.empty() ? impl_->info.height : std::min(impl_->kept.begin()->first, impl_->info.height);
}

std::optional<std::string> RocksDbStore::get_aux(std::string_view key) const {
  return impl_->get_raw(with_prefix(kAuxPrefix, key));
}

void RocksDbStore::scan_aux(std::string_view start, std::string_view end, const ScanFn& fn) const {
  scan_db(impl_->db.get(), nullptr, kAuxPrefix, start, end, fn);
}

std::unique_ptr<KvReader> RocksDbStore::snapshot() const {
  return std::make_unique<SnapshotReader>(impl_->db.get());
}

}  // namespace chain::store
