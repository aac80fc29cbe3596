using System.CommandLine;
using NetLab.Drill.Running;
using NetLab.Lab.Running;
using NetLab.Lab.Scenarios;

namespace NetLab.Cli;

/// <summary>The `netlab` command.</summary>
public static class Program
{
    /// <summary>Exit code for a scenario or command line that cannot be run (a usage error).</summary>
    public const int InvalidInput = 2;

    public static int Main(string[] args) => BuildCommand(Console.Out, Console.Error).Parse(args).Invoke();

    public static RootCommand BuildCommand(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("NetLab: the Linux network stack in a deterministic virtual network, or on a real one through a TAP device.");

        var file = new Argument<FileInfo>("file") { Description = "The scenario (YAML) to run." };
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Where to write pcaps and the transcript (default: out/<scenario name>)." };
        var seed = new Option<ulong?>("--seed") { Description = "Override the scenario's seed." };
        var run = new Command("run", "Run a scenario and print each command's output with its virtual time and host.")
        {
            file, outDir, seed,
        };
        run.SetAction(parse => Run(parse.GetValue(file)!, parse.GetValue(outDir), parse.GetValue(seed), stdout, stderr));
        root.Subcommands.Add(run);
        root.Subcommands.Add(Attach.AttachCommand.Build(stdout, stderr));

        var script = new Argument<FileInfo>("script") { Description = "The packetdrill script (.pkt) to run." };
        var tolerance = new Option<long?>("--tolerance-usecs") { Description = "Timing tolerance in microseconds (default: the script's --tolerance_usecs, else 4000)." };
        var verbose = new Option<bool>("--verbose") { Description = "Print every event, packet and warning as the script runs." };
        var drill = new Command("drill", "Run a packetdrill script against a fresh NetLab host in virtual time.")
        {
            script, tolerance, verbose,
        };
        drill.SetAction(parse => Drill(parse.GetValue(script)!, parse.GetValue(tolerance), parse.GetValue(verbose), stdout, stderr));
        root.Subcommands.Add(drill);
        return root;
    }

    /// <summary>
    /// netlab drill: exit 0 when the script passes, 1 at the first mismatch (path:line, expected and actual packet),
    /// <see cref="InvalidInput"/> for a script that cannot be run (syntax error with line and column, missing file).
    /// </summary>
    public static int Drill(FileInfo file, long? toleranceUsecs, bool verbose, TextWriter stdout, TextWriter stderr)
    {
        if (!file.Exists)
        {
            stderr.WriteLine($"netlab: {file.FullName}: No such file");
            return InvalidInput;
        }
        if (toleranceUsecs is < 0)
        {
            stderr.WriteLine("netlab: --tolerance-usecs must not be negative");
            return InvalidInput;
        }
        var outcome = DrillRunner.RunFile(file.FullName, toleranceUsecs, verbose ? stdout : null);
        switch (outcome.Status)
        {
            case DrillStatus.Passed:
                stdout.WriteLine($"{file.FullName}: pass");
                return 0;
            case DrillStatus.Failed:
                stderr.WriteLine(outcome.Message);
                return 1;
            default:
                stderr.WriteLine(outcome.Message);
                return InvalidInput;
        }
    }

    public static int Run(FileInfo file, DirectoryInfo? outDir, ulong? seed, TextWriter stdout, TextWriter stderr)
    {
        if (!file.Exists)
        {
            stderr.WriteLine($"netlab: {file.FullName}: No such file");
            return InvalidInput;
        }
        var parsed = ScenarioParser.ParseFile(file.FullName);
        if (!parsed.Success)
        {
            foreach (var e in parsed.Errors) stderr.WriteLine(e);
            return InvalidInput;
        }
        var scenario = parsed.Scenario!;
        var dir = outDir?.FullName ?? Path.Combine("out", scenario.Name);
        stdout.WriteLine($"# {scenario.Name}: {scenario.Description}".TrimEnd(' ', ':'));
        stdout.WriteLine($"# seed {seed ?? scenario.Seed}, duration {scenario.Duration}, output in {dir}");
        var runner = new ScenarioRunner(scenario, dir, stdout);
        var errors = runner.Run(seed);
        if (errors.Count > 0)
        {
            foreach (var e in errors) stderr.WriteLine(e);
            return InvalidInput;
        }
        stdout.WriteLine();
        stdout.WriteLine($"# {runner.Results.Count} command(s) run:");
        foreach (var r in runner.Results)
        {
            var status = r.ExitCode is { } code ? $"exit {code}" : "still running at the end";
            stdout.WriteLine($"#   {r.Entry.At,8} {r.Entry.Host}$ {r.Entry.Command}  ({status})");
        }
        foreach (var p in runner.Pcaps) stdout.WriteLine($"# pcap: {p}");
        return 0;
    }
}
