// The CUR loader over generated reports: three assemblies of one month, loaded in turn, leave
// exactly the last assembly's rows and total; loading again changes nothing; the period manifest
// loads the current assembly; manifests are read as AWS writes them.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <map>

#include "billing/cur.h"
#include "billing/generator.h"
#include "billing/loader.h"
#include "common/testing.h"

namespace cairn::billing {
namespace {

struct Census {
  uint64_t events = 0;
  double cost = 0;
  std::map<std::string, uint64_t> by_assembly;  // event id prefix
  std::map<std::string, double> by_account;
};

Census Count(store::Store& s) {
  Census c;
  auto snap = s.GetSnapshot(std::string(kIndex));
  if (!snap.ok()) return c;
  simdjson::dom::parser parser;
  for (const auto& seg : (*snap)->segments()) {
    store::Bitmap all;
    all.addRange(0, seg->event_count());
    EXPECT_TRUE(
        seg->ForEach(all, false,
                     [&](uint32_t ordinal, std::string_view raw) {
                       auto ev = seg->ReadEvent(ordinal);
                       EXPECT_TRUE(ev.ok());
                       c.by_assembly[ev->event_id.substr(0, 36)]++;
                       EXPECT_EQ(ev->sourcetype, kSourcetype);
                       simdjson::dom::element doc;
                       EXPECT_EQ(parser.parse(raw).get(doc), simdjson::SUCCESS) << raw;
                       double cost = 0;
                       // A number, not a string: numeric columns are typed.
                       EXPECT_EQ(doc["lineItem/UnblendedCost"].get(cost), simdjson::SUCCESS) << raw;
                       std::string_view account;
                       EXPECT_EQ(doc["lineItem/UsageAccountId"].get(account), simdjson::SUCCESS);
                       EXPECT_EQ(ev->account, account);
                       c.cost += cost;
                       c.by_account[std::string(account)] += cost;
                       ++c.events;
                       return true;
                     })
            .ok());
  }
  return c;
}

class BillingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = cairn::testing::MakeTempDir("cairn_billing");
    CurGenOptions g;
    g.out_dir = dir_ + "/bucket";
    g.rows = 6000;
    g.rows_per_file = 1500;  // several files per assembly
    g.seed = 7;
    g.final_invoice = true;
    auto gen = GenerateCur(g);
    ASSERT_TRUE(gen.ok()) << gen.status().ToString();
    gen_ = *gen;
    ASSERT_EQ(gen_.assemblies.size(), 3u);
    store::StoreOptions so;
    so.data_dir = dir_ + "/data";
    so.background_merge = false;
    auto s = store::Store::Open(so);
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    source_ = NewLocalSource(dir_ + "/bucket");
  }
  void TearDown() override {
    store_.reset();
    FileSystem::Default()->RemoveAll(dir_).IgnoreError();
  }
  std::string dir_;
  CurGenResult gen_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ReportSource> source_;
};

TEST_F(BillingTest, ThreeAssembliesLeaveTheLastOnesRowsAndTotal) {
  LoadOptions lo;
  lo.batch_rows = 700;  // several staged commits per assembly
  lo.ledger_path = dir_ + "/data/billing/ledger.jsonl";
  Loader loader(store_.get(), source_.get(), lo);
  uint64_t previous_rows = 0;
  for (size_t a = 0; a < 3; ++a) {
    const auto& ga = gen_.assemblies[a];
    auto r = loader.LoadManifest(ga.manifest_key);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(r->skipped);
    EXPECT_EQ(r->rows, ga.rows);
    EXPECT_EQ(r->added, ga.rows);
    EXPECT_EQ(r->replaced_events, previous_rows);
    EXPECT_EQ(r->finalised, a == 2);
    EXPECT_NEAR(r->unblended_total, ga.unblended_total, 1e-6);
    previous_rows = ga.rows;
    Census c = Count(*store_);
    EXPECT_EQ(c.events, ga.rows) << "after assembly " << a + 1;
    ASSERT_EQ(c.by_assembly.size(), 1u);
    EXPECT_EQ(c.by_assembly.begin()->first, ga.assembly_id);
    EXPECT_NEAR(c.cost, ga.unblended_total, 1e-6 * std::max(1.0, ga.unblended_total));
  }
  // The totals differ from assembly to assembly (or the test would prove little).
  EXPECT_GT(gen_.assemblies[2].rows, gen_.assemblies[1].rows);
  EXPECT_NE(gen_.assemblies[2].unblended_total, gen_.assemblies[1].unblended_total);
  Census before = Count(*store_);
  EXPECT_EQ(before.by_account.size(), 3u);  // the payer and two linked accounts
  auto gen_before = store_->Info(std::string(kIndex))->generation;

  // Again, by the period's manifest (which names the last assembly): nothing changes.
  auto again = loader.LoadManifest(gen_.period_manifest_key);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->skipped);
  auto report = loader.LoadReport("cur", "cairn-cur");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->size(), 1u);
  EXPECT_TRUE((*report)[0].skipped);
  EXPECT_EQ(store_->Info(std::string(kIndex))->generation, gen_before);
  Census after = Count(*store_);
  EXPECT_EQ(after.events, before.events);
  EXPECT_EQ(after.by_account, before.by_account);
  auto ledger = ReadFileToString(FileSystem::Default(), lo.ledger_path);
  ASSERT_TRUE(ledger.ok());
  EXPECT_NE(ledger->find(gen_.assemblies[2].assembly_id), std::string::npos);
  EXPECT_NE(ledger->find("\"finalised\":true"), std::string::npos);
}

// A source whose report files after the first `ok_files` fail to open: a load cut short.
class FailingSource final : public ReportSource {
 public:
  FailingSource(ReportSource* base, int ok_files) : base_(base), ok_files_(ok_files) {}
  Result<std::vector<std::string>> List(const std::string& p) override { return base_->List(p); }
  Result<std::string> Read(const std::string& k) override { return base_->Read(k); }
  Result<std::unique_ptr<SequentialFile>> Open(const std::string& k) override {
    if (opened_++ >= ok_files_) return IOError("injected: {} unreadable", k);
    return base_->Open(k);
  }
  std::string Describe(const std::string& k) const override { return base_->Describe(k); }

 private:
  ReportSource* base_;
  int ok_files_;
  int opened_ = 0;
};

TEST_F(BillingTest, InterruptedLoadKeepsTheOldAssemblyThenResumes) {
  LoadOptions lo;
  lo.batch_rows = 500;
  Loader loader(store_.get(), source_.get(), lo);
  ASSERT_TRUE(loader.LoadManifest(gen_.assemblies[0].manifest_key).ok());
  // The period's manifest names assembly 3; its second file fails after the first was staged.
  FailingSource failing(source_.get(), 1);
  Loader cut(store_.get(), &failing, lo);
  auto bad = cut.LoadReport("cur", "cairn-cur");
  ASSERT_FALSE(bad.ok());
  // Searches still see assembly 1 whole; assembly 3's first file is staged.
  Census c = Count(*store_);
  EXPECT_EQ(c.events, gen_.assemblies[0].rows);
  ASSERT_EQ(c.by_assembly.size(), 1u);
  EXPECT_EQ(c.by_assembly.begin()->first, gen_.assemblies[0].assembly_id);
  auto groups = store_->Groups(std::string(kIndex));
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups.begin()->second.live_version, gen_.assemblies[0].assembly_id);
  EXPECT_EQ(groups.begin()->second.staged_versions,
            std::vector<std::string>{gen_.assemblies[2].assembly_id});
  // Part of the first file (rows still buffered when the second failed were never committed).
  const uint64_t staged = groups.begin()->second.staged_events;
  EXPECT_GT(staged, 0u);
  EXPECT_LE(staged, 1500u);

  auto r = loader.LoadReport("cur", "cairn-cur");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].assembly_id, gen_.assemblies[2].assembly_id);
  EXPECT_EQ((*r)[0].period, gen_.period);
  EXPECT_EQ((*r)[0].rows, gen_.assemblies[2].rows);
  EXPECT_EQ((*r)[0].added, gen_.assemblies[2].rows - staged);  // the staged part deduplicated
  c = Count(*store_);
  EXPECT_EQ(c.events, gen_.assemblies[2].rows);
  ASSERT_EQ(c.by_assembly.size(), 1u);
  EXPECT_NEAR(c.cost, gen_.assemblies[2].unblended_total,
              1e-6 * gen_.assemblies[2].unblended_total);
  EXPECT_TRUE(store_->Groups(std::string(kIndex)).begin()->second.staged_versions.empty());
}

TEST(CurManifestTest, ParsesAwsManifestAndRefusesParquet) {
  const std::string json = R"({"assemblyId":"a1b2","account":"111111111111","columns":[
    {"category":"identity","name":"LineItemId","type":"String"},
    {"category":"lineItem","name":"UnblendedCost","type":"OptionalBigDecimal"}],
    "charset":"UTF-8","compression":"GZIP","contentType":"text/csv","reportId":"r",
    "reportName":"my-cur","billingPeriod":{"start":"20261101T000000.000Z","end":"20261201T000000.000Z"},
    "bucket":"b","reportKeys":["p/my-cur/20261101-20261201/a1b2/my-cur-1.csv.gz"],"additionalArtifactKeys":[]})";
  auto m = ParseCurManifest(json, "m.json");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->PeriodFolder(), "20261101-20261201");
  EXPECT_EQ(m->Group(), "cur/my-cur/20261101-20261201");
  EXPECT_EQ(m->columns[1].FullName(), "lineItem/UnblendedCost");
  EXPECT_EQ(m->PeriodStartMs(), 1793491200000);
  CurManifest odd = *m;
  odd.report_name = "team's(cur)!";  // CUR allows these characters in report names
  EXPECT_EQ(odd.Group(), "cur/team_s_cur__/20261101-20261201");
  auto back = ParseCurManifest(EncodeCurManifest(*m), "again");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->report_keys, m->report_keys);

  std::string parquet = json;
  parquet.replace(parquet.find("text/csv"), 8, "Parquet");
  auto p = ParseCurManifest(parquet, "m.json");
  EXPECT_EQ(p.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(p.status().message().find("Parquet"), std::string::npos);
  EXPECT_FALSE(ParseCurManifest("{\"assemblyId\":\"x\"}", "m").ok());
  EXPECT_FALSE(ParseCurManifest("not json", "m").ok());
}

TEST(CurRowTest, NumbersTypedTextEscapedEmptyLeftOut) {
  EXPECT_TRUE(IsJsonNumber("0.0416"));
  EXPECT_TRUE(IsJsonNumber("-1.5E-7"));
  EXPECT_FALSE(IsJsonNumber("007"));
  EXPECT_FALSE(IsJsonNumber("1."));
  EXPECT_FALSE(IsJsonNumber("NaN"));
  CurManifest m;
  m.assembly_id = "asm";
  m.columns = {{"lineItem", "UnblendedCost", "OptionalBigDecimal"},
               {"lineItem", "UsageStartDate", "DateTime"},
               {"lineItem", "UsageAccountId", "String"},
               {"lineItem", "LineItemDescription", "String"},
               {"resourceTags", "user:team", "String"}};
  std::vector<std::string_view> header = {"lineItem/UnblendedCost", "lineItem/UsageStartDate",
                                          "lineItem/UsageAccountId", "lineItem/LineItemDescription",
                                          "resourceTags/user:team"};
  RowConverter conv(header, m, "src", 2, 0);
  cloudtrail::Event e;
  ASSERT_TRUE(
      conv.Convert({"1.25", "2026-11-03T05:00:00Z", "222222222222", "say \"x\", y", ""}, 9, &e)
          .ok());
  EXPECT_EQ(
      e.raw.view(),
      R"({"lineItem/UnblendedCost":1.25,"lineItem/UsageStartDate":"2026-11-03T05:00:00Z","lineItem/UsageAccountId":"222222222222","lineItem/LineItemDescription":"say \"x\", y"})");
  EXPECT_EQ(e.time_ms, 1793682000000);
  EXPECT_EQ(e.event_id, "asm-2-9");
  EXPECT_EQ(e.account, "222222222222");
  EXPECT_FALSE(conv.Convert({"1", "2"}, 10, &e).ok());
  EXPECT_FALSE(conv.Convert({"1", "yesterday", "a", "b", "c"}, 11, &e).ok());
}

// CUR 2.0 (Data Exports): <prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json
// naming the execution and its dataFiles; snake_case columns. A new execution replaces the
// previous one's rows for the period.
TEST(Cur2Test, DataExportExecutionsReplaceEachOther) {
  const std::string dir = cairn::testing::MakeTempDir("cairn_cur2");
  FileSystem* fs = FileSystem::Default();
  const std::string meta = "exp/cur2x/metadata/BILLING_PERIOD=2026-10/cur2x-Manifest.json";
  auto deliver = [&](const std::string& execution, const std::string& file,
                     const std::string& csv) {
    ASSERT_TRUE(fs->CreateDirs(dir + "/bucket/exp/cur2x/data/BILLING_PERIOD=2026-10").ok());
    ASSERT_TRUE(fs->CreateDirs(dir + "/bucket/exp/cur2x/metadata/BILLING_PERIOD=2026-10").ok());
    ASSERT_TRUE(
        WriteFileAtomic(fs, dir + "/bucket/exp/cur2x/data/BILLING_PERIOD=2026-10/" + file, csv)
            .ok());
    const std::string manifest =
        R"({"executionId":")" + execution +
        R"(","exportArn":"arn:aws:bcm-data-exports:us-east-1:111111111111:export/cur2x-1",)"
        R"("columns":[{"name":"line_item_unblended_cost","type":"double"},)"
        R"({"name":"line_item_usage_start_date","type":"timestamp"},)"
        R"({"name":"line_item_usage_account_id","type":"string"},)"
        R"({"name":"product_servicecode","type":"string"},)"
        R"({"name":"resource_tags","type":"map<string,string>"}],)"
        R"("dataFiles":["s3://payer-bucket/exp/cur2x/data/BILLING_PERIOD=2026-10/)" +
        file + R"("]})";
    ASSERT_TRUE(WriteFileAtomic(fs, dir + "/bucket/" + meta, manifest).ok());
  };
  const std::string header =
      "line_item_unblended_cost,line_item_usage_start_date,line_item_usage_account_id,"
      "product_servicecode,resource_tags\n";
  deliver(
      "exec-1", "cur2x-00001.csv",
      header +
          "1.5,2026-10-01T00:00:00Z,222222222222,AmazonS3,\"{\"\"user:team\"\":\"\"data\"\"}\"\n" +
          "2.5,2026-10-02T00:00:00Z,333333333333,AmazonEC2,\n");
  store::StoreOptions so;
  so.data_dir = dir + "/data";
  so.background_merge = false;
  auto st = store::Store::Open(so);
  ASSERT_TRUE(st.ok());
  auto source = NewLocalSource(dir + "/bucket");
  Loader loader(st->get(), source.get(), LoadOptions{});
  auto periods = ListPeriods(source.get(), "exp", "cur2x");
  ASSERT_TRUE(periods.ok());
  EXPECT_EQ(*periods, std::vector<std::string>{"metadata/BILLING_PERIOD=2026-10"});
  EXPECT_EQ(PeriodMonth((*periods)[0]), "202610");
  auto r = loader.LoadReport("exp", "cur2x");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].group, "cur2/cur2x/20261001-20261101");
  EXPECT_EQ((*r)[0].rows, 2u);
  EXPECT_NEAR((*r)[0].unblended_total, 4.0, 1e-9);
  auto snap = (*st)->GetSnapshot(std::string(kIndex));
  ASSERT_TRUE(snap.ok());
  uint64_t events = 0;
  for (const auto& seg : (*snap)->segments()) {
    store::Bitmap all;
    all.addRange(0, seg->event_count());
    ASSERT_TRUE(
        seg->ForEach(
               all, false,
               [&](uint32_t, std::string_view raw) {
                 ++events;
                 EXPECT_NE(raw.find("\"line_item_unblended_cost\":"), std::string_view::npos)
                     << raw;
                 EXPECT_EQ(raw.find("\"line_item_unblended_cost\":\""), std::string_view::npos)
                     << raw;
                 return true;
               })
            .ok());
  }
  EXPECT_EQ(events, 2u);

  // A later execution (overwrite delivery: the same file name) replaces the period's rows.
  deliver("exec-2", "cur2x-00001.csv",
          header +
              "1.0,2026-10-01T00:00:00Z,222222222222,AmazonS3,\n2.0,2026-10-03T00:00:00Z,"
              "222222222222,AmazonS3,\n"
              "3.0,2026-10-04T00:00:00Z,333333333333,AmazonEC2,\n");
  r = loader.LoadReport("exp", "cur2x");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].assembly_id, "exec-2");
  EXPECT_EQ((*r)[0].replaced_events, 2u);
  EXPECT_EQ((*st)->Info(std::string(kIndex))->events, 3u);
  r = loader.LoadReport("exp", "cur2x");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)[0].skipped);
  fs->RemoveAll(dir).IgnoreError();
}

}  // namespace
}  // namespace cairn::billing
