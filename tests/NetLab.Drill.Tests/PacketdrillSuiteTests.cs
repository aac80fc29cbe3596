using System.Text;
using NetLab.Drill.Running;

namespace NetLab.Drill.Tests;

/// <summary>
/// Every script of the shared packetdrill suite, run against NetLab, with a table of the results. A script passes, or
/// is listed in expected-failures.txt with its reason; a listed script that passes fails the test, so the list shrinks.
/// </summary>
public class PacketdrillSuiteTests
{
    private static Dictionary<string, string> LoadExpectedFailures()
    {
        var list = new Dictionary<string, string>(StringComparer.Ordinal);
        string path = Path.Combine(Paths.RepoRoot, "tests", "NetLab.Drill.Tests", "expected-failures.txt");
        foreach (var raw in File.ReadAllLines(path))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            int bar = line.IndexOf('|');
            Assert.True(bar > 0, $"expected-failures.txt: '{line}' is not 'path | reason'");
            string reason = line[(bar + 1)..].Trim();
            Assert.False(reason.Length == 0, $"expected-failures.txt: '{line}' needs a reason");
            Assert.True(list.TryAdd(line[..bar].Trim(), reason), $"expected-failures.txt lists '{line[..bar].Trim()}' twice");
        }
        return list;
    }

    [Fact]
    public void EveryScript_PassesOrIsAnExpectedFailure()
    {
        string root = Paths.PacketdrillDir;
        Assert.True(Directory.Exists(root), $"the packetdrill scripts are not at {root}");
        var expected = LoadExpectedFailures();
        var scripts = Directory.GetFiles(root, "*.pkt", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(root, p).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.NotEmpty(scripts);

        var table = new StringBuilder();
        var problems = new List<string>();
        int passed = 0, expectedFailures = 0;
        table.AppendLine($"{"script",-72} {"result",-6} first mismatch");
        foreach (var script in scripts)
        {
            var outcome = DrillRunner.RunFile(Path.Combine(root, script));
            bool listed = expected.Remove(script, out string? reason);
            string result = (outcome.Passed, listed) switch
            {
                (true, false) => "pass",
                (true, true) => "XPASS",
                (false, true) => "xfail",
                (false, false) => "FAIL",
            };
            if (outcome.Passed && !listed) passed++;
            if (!outcome.Passed && listed) expectedFailures++;
            // The message starts with the full path; the table shows the line and what went wrong.
            string summary = outcome.Passed ? "" : outcome.Summary[(outcome.Summary.IndexOf(".pkt:", StringComparison.Ordinal) + 5)..];
            table.AppendLine($"{script,-72} {result,-6} {summary}");
            if (result == "XPASS") problems.Add($"{script} passes now: remove it from expected-failures.txt (it was listed for: {reason})");
            if (result == "FAIL") problems.Add($"{script} fails: {outcome.Message}");
        }
        foreach (var stale in expected.Keys) problems.Add($"expected-failures.txt lists {stale}, which is not in {root}");
        table.AppendLine($"{scripts.Count} scripts: {passed} pass, {expectedFailures} expected failures, {problems.Count} problem(s)");
        Console.WriteLine(table);
        TestContext.Current.TestOutputHelper?.WriteLine(table.ToString());
        Assert.True(problems.Count == 0, string.Join('\n', problems) + "\n\n" + table);
    }

    /// <summary>The example scripts of docs/drill.md pass: they document NetLab's behaviour, so they must stay true.</summary>
    [Fact]
    public void DocsExamples_Pass()
    {
        var scripts = Directory.GetFiles(Path.Combine(Paths.RepoRoot, "docs", "drill-examples"), "*.pkt");
        Assert.True(scripts.Length >= 2);
        foreach (var script in scripts)
        {
            var outcome = DrillRunner.RunFile(script);
            Assert.True(outcome.Passed, outcome.Message);
        }
    }
}
