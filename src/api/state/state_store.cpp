#include "api/state/state_store.h"

#include <filesystem>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

namespace api::state {

namespace keys {
std::string last_processed_height() {
  return "meta/last_processed_height";
}
std::string mlnode_version_current() {
  return "meta/mlnode_version/current";
}
std::string mlnode_version_last_used() {
  return "meta/mlnode_version/last_used";
}
std::string poc_assignment() {
  return "meta/poc_assignment";
}
std::string tx_in_flight() {
  return "meta/tx_in_flight";
}
std::string seed(uint64_t epoch) {
  return "seed/" + encode_u64(epoch);
}
std::string tx_queue_prefix() {
  return "txq/";
}
std::string tx_queue(uint64_t seq) {
  return tx_queue_prefix() + encode_u64(seq);
}
std::string tx_key(const std::string& idempotency_key) {
  return "txkey/" + idempotency_key;
}
std::string duty(const std::string& duty_key) {
  return "duty/" + duty_key;
}
std::string node_upsert_prefix() {
  return "node/upsert/";
}
std::string node_deleted_prefix() {
  return "node/deleted/";
}
std::string node_disabled_prefix() {
  return "node/disabled/";
}
std::string node_upsert(const std::string& id) {
  return node_upsert_prefix() + id;
}
std::string node_deleted(const std::string& id) {
  return node_deleted_prefix() + id;
}
std::string node_disabled(const std::string& id) {
  return node_disabled_prefix() + id;
}
}  // namespace keys

std::string encode_u64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

std::optional<uint64_t> decode_u64(const std::string& bytes) {
  if (bytes.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (unsigned char c : bytes) v = (v << 8) | c;
  return v;
}

WriteSet& WriteSet::put(std::string key, std::string value) {
  ops_.emplace_back(std::move(key), std::move(value));
  return *this;
}

WriteSet& WriteSet::erase(std::string key) {
  ops_.emplace_back(std::move(key), std::nullopt);
  return *this;
}

struct StateStore::Impl {
  std::unique_ptr<rocksdb::DB> db;
};

StateStore::StateStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StateStore::~StateStore() = default;

common::Result<std::unique_ptr<StateStore>> StateStore::open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return common::make_error(1, "cannot create state directory " + dir + ": " + ec.message());
  rocksdb::Options options;
  options.create_if_missing = true;
  options.max_open_files = 64;
  options.keep_log_file_num = 2;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) {
    return common::make_error(1, "cannot open state store " + dir + ": " + s.ToString() +
                                     " (is another dapi running with this home?)");
  }
  auto impl = std::make_unique<Impl>();
  impl->db.reset(raw);
  return std::unique_ptr<StateStore>(new StateStore(std::move(impl)));
}

std::optional<std::string> StateStore::get(const std::string& key) const {
  std::string value;
  auto s = impl_->db->Get(rocksdb::ReadOptions(), key, &value);
  if (!s.ok()) return std::nullopt;
  return value;
}

std::vector<std::pair<std::string, std::string>> StateStore::scan(const std::string& prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  return out;
}

common::Status StateStore::write(const WriteSet& changes) {
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : changes.ops()) {
    if (value) {
      batch.Put(key, *value);
    } else {
      batch.Delete(key);
    }
  }
  rocksdb::WriteOptions options;
  options.sync = true;
  auto s = impl_->db->Write(options, &batch);
  if (!s.ok()) return common::make_error(1, "state store write failed: " + s.ToString());
  return {};
}

uint64_t StateStore::last_processed_height() const {
  auto v = get(keys::last_processed_height());
  return v ? decode_u64(*v).value_or(0) : 0;
}

common::Status StateStore::set_last_processed_height(uint64_t height) {
  return write(WriteSet().put(keys::last_processed_height(), encode_u64(height)));
}

}  // namespace api::state
