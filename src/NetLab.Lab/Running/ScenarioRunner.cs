using System.Globalization;
using NetLab.Core.Time;
using NetLab.Lab.Scenarios;
using NetLab.Net;
using NetLab.Tools;

namespace NetLab.Lab.Running;

/// <summary>The result of one timeline command.</summary>
public sealed record CommandResult(TimelineEntry Entry, int? ExitCode, SimTime? FinishedAt);

/// <summary>
/// Runs a scenario: builds the world, starts pcaps, runs each timeline command on its host at its
/// virtual instant, stops what still runs at the end (as SIGINT would), and writes a transcript
/// where every line carries the virtual time it was printed at and the host that printed it.
/// </summary>
public sealed class ScenarioRunner(Scenario scenario, string outDirectory, TextWriter console)
{
    public IReadOnlyList<CommandResult> Results { get; private set; } = [];
    public IReadOnlyList<string> Pcaps { get; private set; } = [];

    /// <summary>Runs to the end of the scenario. Returns the build errors (empty on success).</summary>
    public IReadOnlyList<ScenarioError> Run(ulong? seedOverride = null)
    {
        var (world, errors, startup) = ScenarioBuilder.Build(scenario, seedOverride);
        if (world is null) return errors;
        Directory.CreateDirectory(outDirectory);
        using var transcript = new StreamWriter(Path.Combine(outDirectory, "transcript.txt"));
        using (world)
        {
            var pcaps = new List<string>();
            foreach (var c in scenario.Captures)
            {
                var file = Path.Combine(outDirectory, $"{c.Host}-{c.Interface}.pcap");
                world.Capture(world.Hosts[c.Host].FindDevice(c.Interface)!, file);
                pcaps.Add(file);
            }
            Pcaps = pcaps;

            var end = SimTime.Zero + scenario.Duration;
            using var stop = new CancellationTokenSource();
            var running = new List<(TimelineEntry Entry, Task<int> Task, ConsoleOutput Output)>();
            void Write(string line)
            {
                console.WriteLine(line);
                transcript.WriteLine(line);
            }
            foreach (var task in startup)
            {
                var output = new ConsoleOutput(world.Scheduler, task.Host, Write);
                world.Scheduler.At(SimTime.Zero, () => _ = task.Run(output));
            }
            foreach (var entry in scenario.TimelineByTime)
            {
                world.Scheduler.At(SimTime.Zero + entry.At, () =>
                {
                    var host = world.Hosts[entry.Host];
                    Write($"{Stamp(world.Now)} {entry.Host}$ {entry.Command}");
                    var output = new ConsoleOutput(world.Scheduler, entry.Host, Write);
                    running.Add((entry, ToolRunner.RunAsync(host, entry.Command, output, stop.Token), output));
                });
            }
            world.RunUntil(end);
            // The scenario is over: what still runs is interrupted (ping prints its statistics), at the same instant.
            stop.Cancel();
            world.Scheduler.RunUntil(end);
            Results = running.Select(r => new CommandResult(r.Entry,
                r.Task.IsCompletedSuccessfully ? r.Task.Result : null, r.Task.IsCompleted ? r.Output.LastLineAt : null)).ToList();
        }
        return [];
    }

    /// <summary>"[   1.014023]": seconds of virtual time with microseconds, dmesg style.</summary>
    public static string Stamp(SimTime t) =>
        "[" + t.TotalSeconds.ToString("0.000000", CultureInfo.InvariantCulture).PadLeft(11) + "]";

    private sealed class ConsoleOutput(Scheduler scheduler, string host, Action<string> write) : IToolOutput
    {
        public SimTime? LastLineAt { get; private set; }
        public void WriteLine(string line) => Emit(line);
        public void WriteError(string line) => Emit(line);

        private void Emit(string line)
        {
            LastLineAt = scheduler.Now;
            write($"{Stamp(scheduler.Now)} {host}: {line}");
        }
    }
}
