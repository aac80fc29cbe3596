using CsCheck;
using NetLab.Lab.Scenarios;
using Xunit;

namespace NetLab.Lab.Tests.Scenarios;

public class ScenarioParserPropertyTests
{
    // Printable ASCII plus the characters YAML gives structure to: newlines and tabs.
    private static readonly Gen<string> Garbage =
        Gen.Char[" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\n\t"]
            .Array[0, 200].Select(chars => new string(chars));

    private const string Lan = """
        hosts:
          a: { interfaces: { eth0: { address: 10.0.1.2/24 } }, routes: [ "default via 10.0.1.1" ], sysctl: { net.core.somaxconn: 128 } }
        routers:
          r1: { interfaces: { eth0: { address: 10.0.1.1/24, mac: "02:00:00:00:00:01" } } }
        switches: { sw1: { ageing: 10s } }
        links:
          - { endpoints: [ "a:eth0", sw1 ], rate: 1Gbit, delay: 1ms, loss: 0.1% }
          - { endpoints: [ sw1, "r1:eth0" ], mtu: 1400, jitter: 1ms }
        timeline:
          - { at: 1s, on: a, run: "ping -c 3 10.0.1.1" }
        capture: [ "a:eth0" ]
        """;

    // A valid scenario with a few characters overwritten or inserted: reaches deeper than pure garbage does.
    // Edits never shorten the text, so every position drawn stays inside it.
    private static readonly Gen<string> Mutated =
        Gen.Select(Gen.Int[0, Lan.Length - 1], Gen.Char[" :,-[]{}\"'\n#&*!|>%0a"], Gen.Bool).Array[1, 6]
            .Select(edits => edits.Aggregate(Lan, (text, edit) =>
            {
                var (at, c, insert) = edit;
                return insert ? text.Insert(at, c.ToString()) : text.Remove(at, 1).Insert(at, c.ToString());
            }));

    // YAML's structural tokens and the scenario's own words, so that anchors, aliases, complex keys and deep nesting
    // turn up far more often than in character garbage.
    private static readonly Gen<string> TokenSoup =
        Gen.OneOfConst("? ", ": ", "- ", ", ", "[", "]", "{", "}", "&a ", "*a", "&b ", "*b", "!!str ", "'", "\"", "#", "|\n",
                "\n", "\n  ", "\n    ", "hosts", "a", "interfaces", "eth0", "address", "10.0.0.1/24", "links", "endpoints",
                "\"a:eth0\"", "switches", "sw1", "timeline", "at", "1s", "on", "run", "capture", "---\n", "~")
            .Array[0, 60].Select(tokens => string.Concat(tokens));

    private static void AssertResult(string yaml)
    {
        var result = ScenarioParser.Parse(yaml, "fuzz.yaml");
        Assert.True(result.Success != (result.Errors.Length > 0));
        int lines = yaml.Count(c => c == '\n') + 1;
        Assert.All(result.Errors, e => Assert.True(
            e.File == "fuzz.yaml" && e.Line >= 1 && e.Line <= lines + 1 && e.Column >= 1 && e.Message.Length > 0, e.ToString()));
    }

    [Fact]
    public void Garbage_NeverThrows_ItIsReportedAsErrors() => Garbage.Sample(AssertResult, iter: 50_000);

    [Fact]
    public void MutatedScenario_NeverThrows_ItIsReportedAsErrors() => Mutated.Sample(AssertResult, iter: 50_000);

    [Fact]
    public void TokenSoup_NeverThrows_ItIsReportedAsErrors() => TokenSoup.Sample(AssertResult, iter: 50_000);

    [Fact]
    public void LanScenario_Parses() => Assert.True(ScenarioParser.Parse(Lan, "lan.yaml").Success);
}
