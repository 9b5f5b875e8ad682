// The Detailed Billing Report and ZIP input: three versions of one month's DBR object loaded in
// turn leave exactly the last version's charge rows and its statement total; the same object again
// changes nothing; hostile or damaged archives (not a ZIP, an encrypted entry, two entries, an
// oversized declared entry, a path as entry name, a damaged deflate stream) are refused with a
// message naming the object and the problem, load nothing of it, and do not stop the other objects;
// ZIP-compressed CUR files load the same events as the same rows gzipped.

#include "billing/dbr.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <zip.h>

#include <cmath>
#include <map>

#include "billing/generator.h"
#include "billing/loader.h"
#include "billing/zip.h"
#include "common/testing.h"

namespace cairn::billing {
namespace {

struct Seen {
  uint64_t events = 0;
  uint64_t line_items = 0;
  uint64_t rounding = 0;
  double cost = 0;
  std::map<std::string, uint64_t> by_group_prefix;  // event id before the row number
  std::map<std::string, std::string> raw_by_id;
};

Seen Look(store::Store& s) {
  Seen c;
  auto snap = s.GetSnapshot(std::string(kIndex));
  if (!snap.ok()) return c;
  simdjson::dom::parser parser;
  for (const auto& seg : (*snap)->segments()) {
    store::Bitmap all;
    all.addRange(0, seg->event_count());
    EXPECT_TRUE(seg->ForEach(all, false,
                             [&](uint32_t ordinal, std::string_view raw) {
                               auto ev = seg->ReadEvent(ordinal);
                               EXPECT_TRUE(ev.ok());
                               ++c.events;
                               c.by_group_prefix[ev->event_id.substr(0, ev->event_id.rfind('-'))]++;
                               c.raw_by_id[ev->event_id] = std::string(raw);
                               simdjson::dom::element doc;
                               EXPECT_EQ(parser.parse(raw).get(doc), simdjson::SUCCESS) << raw;
                               if (ev->sourcetype != kDbrSourcetype) return true;
                               std::string_view type;
                               EXPECT_EQ(doc["RecordType"].get(type), simdjson::SUCCESS);
                               c.line_items += type == "LineItem";
                               c.rounding += type == "Rounding";
                               double cost = 0;
                               // A number, not a string: the cost columns are typed.
                               EXPECT_EQ(doc["UnBlendedCost"].get(cost), simdjson::SUCCESS) << raw;
                               c.cost += cost;
                               return true;
                             })
                    .ok());
  }
  return c;
}

class DbrTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = cairn::testing::MakeTempDir("cairn_dbr");
    store::StoreOptions so;
    so.data_dir = dir_ + "/data";
    so.background_merge = false;
    auto s = store::Store::Open(so);
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    FileSystem::Default()->RemoveAll(dir_).IgnoreError();
  }
  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(DbrTest, ThreeVersionsLeaveTheLastOnesLineItemsAndTotal) {
  DbrGenOptions g;
  g.out_dir = dir_ + "/gen";
  g.rows = 4000;
  g.seed = 3;
  g.final_invoice = true;
  auto gen = GenerateDbr(g);
  ASSERT_TRUE(gen.ok()) << gen.status().ToString();
  ASSERT_EQ(gen->versions.size(), 3u);
  EXPECT_EQ(gen->key,
            "111111111111-aws-billing-detailed-line-items-with-resources-and-tags-2026-11.csv.zip");
  LoadOptions lo;
  lo.batch_rows = 900;  // several staged commits per version
  lo.ledger_path = dir_ + "/data/billing/ledger.jsonl";
  uint64_t previous = 0;
  for (size_t v = 0; v < 3; ++v) {
    const auto& gv = gen->versions[v];
    // AWS rewrote the object in place: the bucket as version v left it.
    auto source = NewLocalSource(gv.bucket_dir);
    Loader loader(store_.get(), source.get(), lo);
    auto r = loader.LoadDbr("");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 1u);
    const AssemblyResult& a = (*r)[0];
    EXPECT_EQ(a.error, "");
    EXPECT_EQ(a.group, "dbr/111111111111/2026-11");
    EXPECT_FALSE(a.skipped);
    EXPECT_EQ(a.rows, gv.line_items + 1);  // the line items and the Rounding row
    EXPECT_EQ(a.added, a.rows);
    EXPECT_EQ(a.summary_rows, 5u);  // three AccountTotal, InvoiceTotal, StatementTotal
    EXPECT_EQ(a.replaced_events, previous);
    EXPECT_EQ(a.finalised, v == 2);
    EXPECT_NEAR(a.unblended_total, gv.charge_total, 1e-6);
    EXPECT_NEAR(a.statement_total, gv.statement_total, 1e-9);
    previous = a.rows;
    Seen s = Look(*store_);
    EXPECT_EQ(s.events, gv.line_items + 1) << "after version " << v + 1;
    EXPECT_EQ(s.line_items, gv.line_items);
    EXPECT_EQ(s.rounding, 1u);
    ASSERT_EQ(s.by_group_prefix.size(), 1u);
    EXPECT_EQ(s.by_group_prefix.begin()->first, a.assembly_id);
    // The sum of the loaded rows is the report's own statement total.
    EXPECT_NEAR(s.cost, gv.statement_total, 1e-6 * std::max(1.0, gv.statement_total));
  }
  EXPECT_GT(gen->versions[2].line_items, gen->versions[1].line_items);
  EXPECT_NE(gen->versions[2].statement_total, gen->versions[1].statement_total);
  const auto generation = store_->Info(std::string(kIndex))->generation;
  const Seen before = Look(*store_);

  // Again, from the last version's folder and from the bucket as it is now: nothing changes.
  for (const std::string& root : {gen->versions[2].bucket_dir, g.out_dir}) {
    auto source = NewLocalSource(root);
    Loader loader(store_.get(), source.get(), lo);
    auto r = loader.LoadDbr("");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 1u);
    EXPECT_TRUE((*r)[0].skipped) << root;
  }
  EXPECT_EQ(store_->Info(std::string(kIndex))->generation, generation);
  EXPECT_EQ(Look(*store_).raw_by_id, before.raw_by_id);
  auto ledger = ReadFileToString(FileSystem::Default(), lo.ledger_path);
  ASSERT_TRUE(ledger.ok());
  EXPECT_NE(ledger->find("dbr/111111111111/2026-11"), std::string::npos);
  EXPECT_NE(ledger->find("\"finalised\":true"), std::string::npos);
}

TEST_F(DbrTest, FieldsKeepTheDbrNamesAndTime) {
  DbrGenOptions g;
  g.out_dir = dir_ + "/gen";
  g.rows = 50;
  g.versions = 1;
  g.prefix = "dbr";
  ASSERT_TRUE(GenerateDbr(g).ok());
  auto source = NewLocalSource(g.out_dir);
  Loader loader(store_.get(), source.get(), LoadOptions{});
  auto r = loader.LoadDbr("dbr");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].error, "");
  EXPECT_FALSE((*r)[0].finalised);  // InvoiceID "Estimated"
  auto snap = store_->GetSnapshot(std::string(kIndex));
  ASSERT_TRUE(snap.ok());
  uint64_t checked = 0;
  for (const auto& seg : (*snap)->segments()) {
    store::Bitmap all;
    all.addRange(0, seg->event_count());
    ASSERT_TRUE(seg->ForEach(all, false,
                             [&](uint32_t ordinal, std::string_view raw) {
                               auto ev = seg->ReadEvent(ordinal);
                               EXPECT_EQ(ev->sourcetype, kDbrSourcetype);
                               if (raw.find("\"RecordType\":\"LineItem\"") == raw.npos) return true;
                               ++checked;
                               EXPECT_NE(raw.find("\"UsageQuantity\":"), raw.npos);
                               EXPECT_EQ(raw.find("\"UsageQuantity\":\""), raw.npos) << raw;
                               EXPECT_NE(raw.find("\"ProductName\":\""), raw.npos);
                               EXPECT_NE(raw.find("\"InvoiceID\":\"Estimated\""), raw.npos);
                               // _time is UsageStartDate, read as UTC.
                               const size_t at = raw.find("\"UsageStartDate\":\"");
                               EXPECT_NE(at, raw.npos);
                               auto t = ParseDbrTime(raw.substr(at + 18, 19));
                               EXPECT_TRUE(t.has_value());
                               EXPECT_EQ(ev->time_ms, t.value_or(-1));
                               EXPECT_FALSE(ev->account.empty());
                               return true;
                             })
                    .ok());
  }
  EXPECT_EQ(checked, 50u);
  EXPECT_EQ(ParseDbrTime("2026-11-03 05:00:00"), std::optional<int64_t>(1793682000000));
  EXPECT_FALSE(ParseDbrTime("2026-11-03 5:00").has_value());
}

TEST(DbrKeyTest, NamesAndChoice) {
  auto o = ParseDbrKey(
      "123456789012-aws-billing-detailed-line-items-with-resources-and-tags-2015-07.csv.zip", "");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->account, "123456789012");
  EXPECT_EQ(o->month, "2015-07");
  EXPECT_TRUE(o->with_tags);
  EXPECT_EQ(o->Group(), "dbr/123456789012/2015-07");
  auto plain = ParseDbrKey("p/123456789012-aws-billing-detailed-line-items-2015-07.csv.zip", "p");
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->with_tags);
  // The monthly summary report, other months, deeper keys, CUR files: not DBR objects.
  EXPECT_FALSE(ParseDbrKey("123456789012-aws-billing-csv-2015-07.csv", ""));
  EXPECT_FALSE(ParseDbrKey("123456789012-aws-billing-detailed-line-items-2015-13.csv.zip", ""));
  EXPECT_FALSE(ParseDbrKey("x/123456789012-aws-billing-detailed-line-items-2015-07.csv.zip", ""));
  EXPECT_FALSE(ParseDbrKey("12345-aws-billing-detailed-line-items-2015-07.csv.zip", ""));
  EXPECT_FALSE(ParseDbrKey("cur/r/20261101-20261201/a/r-1.csv.zip", "cur"));
  // Both detailed reports of a month: the one with resources and tags is read, not both.
  auto chosen = ChooseDbrObjects(
      {"123456789012-aws-billing-detailed-line-items-2015-07.csv.zip",
       "123456789012-aws-billing-detailed-line-items-with-resources-and-tags-2015-07.csv.zip",
       "123456789012-aws-billing-detailed-line-items-2015-06.csv.zip",
       "123456789012-aws-billing-csv-2015-07.csv"},
      "");
  ASSERT_EQ(chosen.size(), 2u);
  EXPECT_EQ(chosen[0].month, "2015-06");
  EXPECT_EQ(chosen[1].month, "2015-07");
  EXPECT_TRUE(chosen[1].with_tags);
}

TEST(DbrRowTest, ChargesBecomeEventsSummariesAreCounted) {
  // A byte order mark before the first name is dropped; the cost columns are numbers.
  std::vector<std::string_view> header = {"\xEF\xBB\xBFInvoiceID", "LinkedAccountId", "RecordType",
                                          "UsageStartDate",        "UnBlendedCost",   "user:team"};
  auto conv = DbrRowConverter::Make(header, "src", "v1", 7, nullptr);
  ASSERT_TRUE(conv.ok()) << conv.status().ToString();
  cloudtrail::Event e;
  auto r = conv->Convert(
      {"Estimated", "222222222222", "LineItem", "2026-11-03 05:00:00", "1.25", ""}, 4, &e);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(*r);
  EXPECT_EQ(
      e.raw.view(),
      R"({"InvoiceID":"Estimated","LinkedAccountId":"222222222222","RecordType":"LineItem","UsageStartDate":"2026-11-03 05:00:00","UnBlendedCost":1.25})");
  EXPECT_EQ(e.time_ms, 1793682000000);
  EXPECT_EQ(e.event_id, "v1-4");
  EXPECT_EQ(e.sourcetype, kDbrSourcetype);
  EXPECT_EQ(e.account, "222222222222");
  r = conv->Convert({"Estimated", "", "Rounding", "", "-0.5", ""}, 5, &e);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_EQ(e.time_ms, 7);  // no UsageStartDate: the month's start
  r = conv->Convert({"Estimated", "", "StatementTotal", "", "0.75", ""}, 6, &e);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  r = conv->Convert({"Estimated", "", "InvoiceTotal", "", "0.75", ""}, 7, &e);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(conv->summary_rows(), 2u);
  EXPECT_EQ(conv->statement_total(), std::optional<double>(0.75));
  EXPECT_DOUBLE_EQ(conv->unblended_total(), 0.75);
  EXPECT_FALSE(conv->saw_invoice());
  EXPECT_FALSE(conv->Convert({"a", "b"}, 8, &e).ok());
  EXPECT_FALSE(conv->Convert({"1", "2", "LineItem", "yesterday", "1", ""}, 9, &e).ok());
  // Not a DBR: no RecordType or no cost column.
  auto not_dbr = DbrRowConverter::Make({"lineItem/UnblendedCost", "lineItem/UsageStartDate"}, "cur",
                                       "v", 0, nullptr);
  ASSERT_FALSE(not_dbr.ok());
  EXPECT_NE(not_dbr.status().message().find("not a Detailed Billing Report"), std::string::npos);
}

// Archives made by hand for the refusals.
std::string ReadAll(const std::string& path) {
  auto s = ReadFileToString(FileSystem::Default(), path);
  EXPECT_TRUE(s.ok());
  return s.ok() ? *s : "";
}
void WriteAll(const std::string& path, const std::string& bytes) {
  ASSERT_TRUE(WriteFileAtomic(FileSystem::Default(), path, bytes).ok());
}
// Sets the general purpose flags' bit 0 (encrypted) of the first local and central header.
std::string MarkEncrypted(std::string z) {
  const size_t local = z.find("PK\x03\x04");
  const size_t central = z.find("PK\x01\x02");
  EXPECT_NE(local, std::string::npos);
  EXPECT_NE(central, std::string::npos);
  z[local + 6] = static_cast<char>(z[local + 6] | 1);
  z[central + 8] = static_cast<char>(z[central + 8] | 1);
  return z;
}
// Declares `size` uncompressed bytes in the first local and central header.
std::string DeclareSize(std::string z, uint32_t size) {
  const size_t local = z.find("PK\x03\x04");
  const size_t central = z.find("PK\x01\x02");
  for (int i = 0; i < 4; ++i) {
    z[local + 22 + i] = static_cast<char>((size >> (8 * i)) & 0xff);
    z[central + 24 + i] = static_cast<char>((size >> (8 * i)) & 0xff);
  }
  return z;
}
void WriteTwoEntries(const std::string& path, const std::string& csv) {
  int code = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  ASSERT_NE(z, nullptr);
  for (const char* name : {"a.csv", "b.csv"}) {
    zip_source_t* s = zip_source_buffer(z, csv.data(), csv.size(), 0);
    ASSERT_GE(zip_file_add(z, name, s, 0), 0);
  }
  ASSERT_EQ(zip_close(z), 0);
}

TEST_F(DbrTest, HostileArchivesAreRefusedAndTheOthersStillLoad) {
  DbrGenOptions g;
  g.out_dir = dir_ + "/gen";
  g.rows = 300;
  g.versions = 1;
  g.plain_csv = true;
  auto gen = GenerateDbr(g);
  ASSERT_TRUE(gen.ok()) << gen.status().ToString();
  const std::string bucket = g.out_dir;
  const std::string good = ReadAll(JoinPath(bucket, gen->key));
  const std::string csv = ReadAll(gen->versions[0].csv_path);
  auto key = [](const char* account, const char* month) {
    return fmt::format("{}-aws-billing-detailed-line-items-with-resources-and-tags-{}.csv.zip",
                       account, month);
  };
  struct Bad {
    std::string key;
    std::string problem;  // in the message
  };
  std::vector<Bad> bad = {
      {key("200000000001", "2026-10"), "not a readable ZIP archive"},
      {key("200000000002", "2026-10"), "is encrypted"},
      {key("200000000003", "2026-10"), "holds 2 entries"},
      {key("200000000004", "2026-10"), "more than the limit"},
      {key("200000000005", "2026-10"), "not a plain file name"},
      {key("200000000006", "2026-10"), "cannot be read"},
  };
  WriteAll(JoinPath(bucket, bad[0].key), good.substr(0, good.size() / 2));  // cut short
  WriteAll(JoinPath(bucket, bad[1].key), MarkEncrypted(good));
  WriteTwoEntries(JoinPath(bucket, bad[2].key), csv);
  WriteAll(JoinPath(bucket, bad[3].key), DeclareSize(good, 0xF0000000u));
  ASSERT_TRUE(WriteZip(JoinPath(bucket, bad[4].key), "../../etc/cron.d/x.csv", csv).ok());
  {
    // A damaged deflate stream: the directory is intact, the data is not.
    std::string z = good;
    const size_t local = z.find("PK\x03\x04");
    const size_t data = local + 30 +
                        (static_cast<unsigned char>(z[local + 26]) |
                         static_cast<unsigned char>(z[local + 27]) << 8);
    for (size_t i = data + 40; i < data + 240 && i < z.size(); ++i) z[i] = static_cast<char>(~z[i]);
    WriteAll(JoinPath(bucket, bad[5].key), z);
  }
  LoadOptions lo;
  lo.zip_limits.max_entry_bytes = uint64_t{1} << 30;
  auto source = NewLocalSource(bucket);
  Loader loader(store_.get(), source.get(), lo);
  auto r = loader.LoadDbr("");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), bad.size() + 1);
  std::map<std::string, AssemblyResult> by_key;
  for (const auto& a : *r) by_key[a.manifest_key] = a;
  for (const auto& b : bad) {
    ASSERT_TRUE(by_key.count(b.key)) << b.key;
    const std::string& e = by_key[b.key].error;
    EXPECT_NE(e.find(b.key), std::string::npos) << e;      // names the object
    EXPECT_NE(e.find(b.problem), std::string::npos) << e;  // and the problem
  }
  ASSERT_TRUE(by_key.count(gen->key));
  EXPECT_EQ(by_key[gen->key].error, "");
  EXPECT_EQ(by_key[gen->key].rows, 301u);
  // Only the good object is searched; nothing of the others is live.
  const Seen s = Look(*store_);
  EXPECT_EQ(s.events, 301u);
  const auto groups = store_->Groups(std::string(kIndex));
  for (const auto& [name, info] : groups) {
    if (name == "dbr/111111111111/2026-11") continue;
    EXPECT_EQ(info.live_events, 0u) << name;
  }
}

TEST(ZipTest, RatioAndSizeLimitsAndTheEntryStream) {
  const std::string dir = cairn::testing::MakeTempDir("cairn_zip");
  FileSystem* fs = FileSystem::Default();
  std::string text;
  for (int i = 0; i < 200'000; ++i) text += "a,b,c\n";  // 1.2 MB, very compressible
  ASSERT_TRUE(WriteZip(dir + "/a.zip", "a.csv", text).ok());
  auto open = [&](const ZipLimits& l, ZipEntryInfo* info) {
    auto f = fs->NewRandomAccessFile(dir + "/a.zip");
    EXPECT_TRUE(f.ok());
    return OpenZipEntry(std::move(*f), "a.zip", l, info);
  };
  ZipEntryInfo info;
  auto in = open(ZipLimits{}, &info);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(info.name, "a.csv");
  EXPECT_EQ(info.size, text.size());
  std::string back;
  char buf[4096];  // read in small pieces: the entry is streamed
  while (true) {
    auto n = (*in)->Read(buf, sizeof buf);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
    back.append(buf, *n);
  }
  EXPECT_EQ(back, text);
  ZipLimits small;
  small.max_entry_bytes = 1000;
  auto refused = open(small, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("a.zip"), std::string::npos);
  EXPECT_NE(refused.status().message().find("more than the limit of 1000"), std::string::npos);
  ZipLimits ratio;
  ratio.max_ratio = 10;
  refused = open(ratio, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("ratio above 10:1"), std::string::npos)
      << refused.status().ToString();
  fs->RemoveAll(dir).IgnoreError();
}

// The same generated rows as ZIP and as gzip CUR files load the same events.
TEST(CurZipTest, ZipCurLoadsTheSameEventsAsGzip) {
  const std::string dir = cairn::testing::MakeTempDir("cairn_curzip");
  std::map<std::string, std::string> events[2];
  double totals[2] = {0, 0};
  for (int z = 0; z < 2; ++z) {
    CurGenOptions g;
    g.out_dir = dir + (z ? "/zip" : "/gz");
    g.rows = 3000;
    g.rows_per_file = 1000;
    g.seed = 9;
    g.compression = z ? "ZIP" : "GZIP";
    auto gen = GenerateCur(g);
    ASSERT_TRUE(gen.ok()) << gen.status().ToString();
    EXPECT_TRUE(gen->assemblies[2].report_keys[0].ends_with(z ? ".csv.zip" : ".csv.gz"));
    store::StoreOptions so;
    so.data_dir = g.out_dir + "-data";
    so.background_merge = false;
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok());
    auto source = NewLocalSource(g.out_dir);
    Loader loader(st->get(), source.get(), LoadOptions{});
    auto r = loader.LoadReport("cur", "cairn-cur");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].rows, 3000u);
    EXPECT_EQ((*r)[0].files, 3u);
    totals[z] = (*r)[0].unblended_total;
    events[z] = Look(**st).raw_by_id;
  }
  EXPECT_EQ(events[0].size(), 3000u);
  EXPECT_EQ(events[0], events[1]);
  EXPECT_EQ(totals[0], totals[1]);
  FileSystem::Default()->RemoveAll(dir).IgnoreError();
}

}  // namespace
}  // namespace cairn::billing
