// The price inputs operators load: the Spot Advisor feed and price files, line by
// line. The real files are exercised end to end in real_data_test.cc.
#include <doctest/doctest.h>

#include "spotopt/pricing/advisor.h"
#include "spotopt/pricing/price_files.h"

namespace spotopt {
namespace {

constexpr std::string_view kFeed = R"({
  "global_rate": "<10%",
  "instance_types": {"m5.large": {"emr": true, "cores": 2, "ram_gb": 8.0}},
  "ranges": [{"index": 0, "label": "<5%", "dots": 0, "max": 5},
             {"index": 1, "label": "5-10%", "dots": 1, "max": 11}],
  "spot_advisor": {"eu-west-1": {"Linux": {"m5.large": {"s": 57, "r": 1}},
                                 "Windows": {"m5.large": {"s": 40, "r": 0}}},
                   "ca-central-1": {"Linux": {"p5.48xlarge": {"s": -62, "r": 0}}}}})";

TEST_CASE("the Advisor feed parses and answers per region, OS and type") {
  absl::StatusOr<AdvisorFeed> feed = AdvisorFeed::Parse(kFeed);
  REQUIRE_MESSAGE(feed.ok(), feed.status().ToString());
  CHECK(feed->size() == 3);
  CHECK(feed->Find("eu-west-1", "Linux", "m5.large") ==
        AdvisorEntry{AdvisorBand{1, "5-10%", 11}, 57});
  CHECK(feed->Find("eu-west-1", "Windows", "m5.large")->band.index == 0);
  CHECK(feed->Find("ca-central-1", "Linux", "p5.48xlarge")->savings_percent == -62);
  CHECK_FALSE(feed->Find("eu-west-1", "Linux", "m5.xlarge").has_value());
  CHECK(feed->Regions() == std::vector<std::string>{"ca-central-1", "eu-west-1"});
}

TEST_CASE("a malformed Advisor feed is refused with the path of the problem") {
  const auto refused = [](std::string_view text, std::string_view path) {
    absl::StatusOr<AdvisorFeed> feed = AdvisorFeed::Parse(text);
    CHECK(absl::IsInvalidArgument(feed.status()));
    CHECK_MESSAGE(feed.status().message().find(std::string(path)) != std::string::npos,
                  feed.status().ToString());
  };
  refused("not json", "(document)");
  refused("[]", "(document)");
  refused(R"({"spot_advisor": {}})", "ranges");
  refused(R"({"ranges": [{"index": 1, "label": "x", "max": 5}], "spot_advisor": {}})",
          "ranges[0].index");
  refused(R"({"ranges": [{"index": 0, "label": "x", "max": 5}]})", "spot_advisor");
  refused(R"({"ranges": [{"index": 0, "label": "x", "max": 5}],
              "spot_advisor": {"r": {"Linux": {"t": {"s": 5, "r": 3}}}}})",
          "spot_advisor.r.Linux.t.r");
  refused(R"({"ranges": [{"index": 0, "label": "x", "max": 5}],
              "spot_advisor": {"r": {"Linux": {"t": {"s": "5", "r": 0}}}}})",
          "spot_advisor.r.Linux.t.s");
  // Names are short strings: a NUL would let two (region, OS, type) triples share a
  // lookup key ("a\0b"/"c" and "a"/"b\0c").
  refused(R"({"ranges": [{"index": 0, "label": "x", "max": 5}],
              "spot_advisor": {"a\u0000b": {"c": {"t": {"s": 1, "r": 0}}},
                               "a": {"b\u0000c": {"t": {"s": 2, "r": 0}}}}})",
          "spot_advisor: a name: contains a control character");
  refused(R"({"ranges": [{"index": 0, "label": "x", "max": 5}],
              "spot_advisor": {"r": {"": {"t": {"s": 1, "r": 0}}}}})",
          "spot_advisor.r: a name: must not be empty");
  // Numbers far outside int64 are refused, not converted (that was undefined).
  refused(R"({"ranges": [{"index": 1e300, "label": "x", "max": 5}], "spot_advisor": {}})",
          "ranges[0].index");
  refused(R"({"ranges": [{"index": 0, "label": "x", "max": 5}],
              "spot_advisor": {"r": {"Linux": {"t": {"s": -1e300, "r": 0}}}}})",
          "spot_advisor.r.Linux.t.s");
}

TEST_CASE("spot price history lines, offsets with or without a colon") {
  absl::StatusOr<SpotPriceRow> row = ParseSpotPriceHistoryLine(
      "SPOTINSTANCEPRICE\t0.097000\t2022-03-13T16:16:17+00:00\tm6i.xlarge\tLinux/UNIX\teu-west-1a");
  REQUIRE_MESSAGE(row.ok(), row.status().ToString());
  CHECK(row->price == Money::FromMicros(97'000));
  CHECK(row->region == "eu-west-1");
  CHECK(row->az == "eu-west-1a");
  CHECK(row->instance_type == "m6i.xlarge");
  CHECK(row->product == "Linux/UNIX");
  CHECK(FormatTimestamp(row->at) == "2022-03-13T16:16:17.000000Z");
  row = ParseSpotPriceHistoryLine(
      "SPOTINSTANCEPRICE\t0.011900\t2021-08-01T00:02:33-0700\tt3.micro\tLinux/UNIX (Amazon "
      "VPC)\teu-west-1c\r");
  REQUIRE_MESSAGE(row.ok(), row.status().ToString());
  CHECK(FormatTimestamp(row->at) == "2021-08-01T07:02:33.000000Z");
  CHECK(row->product == "Linux/UNIX (Amazon VPC)");

  for (std::string_view bad :
       {"", "SPOTINSTANCEPRICE\t0.1\t2022-03-13T16:16:17Z\tm5.large\tLinux/UNIX",
        "OTHER\t0.1\t2022-03-13T16:16:17Z\tm5.large\tLinux/UNIX\teu-west-1a",
        "SPOTINSTANCEPRICE\tNaN\t2022-03-13T16:16:17Z\tm5.large\tLinux/UNIX\teu-west-1a",
        "SPOTINSTANCEPRICE\t0.1\tyesterday\tm5.large\tLinux/UNIX\teu-west-1a",
        "SPOTINSTANCEPRICE\t0.1\t2022-03-13T16:16:17Z\tm5.large\tLinux/UNIX\teuw1-az1"}) {
    CAPTURE(bad);
    CHECK(absl::IsInvalidArgument(ParseSpotPriceHistoryLine(bad).status()));
  }
}

TEST_CASE("on-demand price list lines") {
  absl::StatusOr<OnDemandRow> row = ParseOnDemandCsvLine(
      "eu-west-1,m5.large,0.107000,2020-07-02,hjacobs/kube-resource-report@4242e2191255");
  REQUIRE_MESSAGE(row.ok(), row.status().ToString());
  CHECK(row->region == "eu-west-1");
  CHECK(row->instance_type == "m5.large");
  CHECK(row->price == Money::FromMicros(107'000));
  CHECK(FormatTimestamp(row->as_of) == "2020-07-02T00:00:00.000000Z");
  for (std::string_view bad :
       {"region,instance_type,usd_per_hour,as_of,source", "eu-west-1,m5.large,0,2020-07-02",
        "eu-west-1,m5.large,0.1,2020-7-2", "eu-west-1,m5.large",
        "eu-west-1,m5.large,0.1,2020-07-02,src,extra"}) {
    CAPTURE(bad);
    CHECK(absl::IsInvalidArgument(ParseOnDemandCsvLine(bad).status()));
  }
}

}  // namespace
}  // namespace spotopt
