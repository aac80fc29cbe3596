using System.Runtime.CompilerServices;
using System.Text;
using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack;
using NetLab.Stack.Tcp;

namespace NetLab.Tools.Tests.RealLinux;

/// <summary>One command of an experiment, run on one node ("a", "r" or "b").</summary>
internal readonly record struct Step(string Node, string Command)
{
    public static implicit operator Step(string commandOnA) => new("a", commandOnA);
    public override string ToString() => $"{Node}: {Command}";
}

/// <summary>
/// Runs the same experiment on real Linux (network namespaces) and on NetLab and compares what the
/// tools print, line by line after <see cref="Normalise"/>, with stdout, stderr and the exit status
/// apart (CONVENTIONS rule 13: Linux is the oracle).
/// Both sides are the routed topology a — r — b (see <see cref="LinuxNetns"/>), cabled, then configured
/// by the same <see cref="Setup"/> commands. Linux's transcript is kept in Golden/TEST.txt for reading;
/// set NETLAB_UPDATE_GOLDEN=1 to rewrite it. The comparison is always live.
/// </summary>
internal static class RealPeer
{
    /// <summary>
    /// One-way delay, per veth end (netem) and per NetLab link direction: NETLAB_REALPEER_DELAY_MS, else
    /// none. Times are normalised away, so delay only matters for ordering; and kernels built without
    /// sch_netem (CONFIG_NET_SCH_NETEM unset, as on the machine these tests were written on) cannot add it.
    /// </summary>
    public static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(
        double.Parse(Environment.GetEnvironmentVariable("NETLAB_REALPEER_DELAY_MS") ?? "0", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Virtual time between two commands of an experiment, about what a shell takes to start one.</summary>
    public static readonly SimDuration CommandGap = SimDuration.FromMilliseconds(10);

    /// <summary>The MTU of the r — b link, set on both of its ends.</summary>
    public const int RightMtu = 1400;

    /// <summary>Addresses, MTU, routes and forwarding: the same commands on both sides.</summary>
    public static readonly Step[] Setup =
    [
        new("a", "ip link set lo up"),
        new("a", "ip link set eth0 up"),
        new("a", "ip addr add 10.77.1.2/24 brd + dev eth0"),
        new("a", "ip route add default via 10.77.1.1"),
        new("r", "ip link set lo up"),
        new("r", "ip link set eth0 up"),
        new("r", $"ip link set eth1 mtu {RightMtu}"),
        new("r", "ip link set eth1 up"),
        new("r", "ip addr add 10.77.1.1/24 brd + dev eth0"),
        new("r", "ip addr add 10.77.2.1/24 brd + dev eth1"),
        new("r", "sysctl -q -w net.ipv4.ip_forward=1"),
        new("b", "ip link set lo up"),
        new("b", $"ip link set eth0 mtu {RightMtu}"),
        new("b", "ip link set eth0 up"),
        new("b", "ip addr add 10.77.2.2/24 brd + dev eth0"),
        new("b", "ip route add default via 10.77.2.1"),
    ];

    /// <summary>The NetLab side, cabled as <see cref="LinuxNetns.CreateRouted"/> cables Linux; devices start down.</summary>
    public static (World World, IReadOnlyDictionary<string, Host> Hosts) NetLabRouted(TimeSpan delay)
    {
        var w = new World();
        var a = w.AddHost("a");
        var r = w.AddHost("r");
        var b = w.AddHost("b");
        // veth has no rate: 10 Gbit/s keeps NetLab's serialisation far below the delay.
        var p = new LinkParameters { RateBitsPerSecond = 10_000_000_000, Delay = SimDuration.FromTimeSpan(delay) };
        w.Connect(a.AddEthernet("eth0"), r.AddEthernet("eth0"), p);
        w.Connect(r.AddEthernet("eth1"), b.AddEthernet("eth0"), p with { Mtu = RightMtu });
        return (w, w.Hosts);
    }

    /// <summary>
    /// Builds both sides, runs <paramref name="steps"/> on each, records Linux's transcript, then asserts
    /// that NetLab printed the same, step by step.
    /// </summary>
    public static void Compare(Step[] steps, [CallerMemberName] string test = "", [CallerFilePath] string source = "") =>
        Compare(steps, [], test, source);

    /// <summary>
    /// <see cref="Compare(Step[], string, string)"/> with TCP listeners open during the steps: on each
    /// (node, port) a socket bound to 0.0.0.0 that listens (backlog 5) and never accepts; on Linux a
    /// python3 process holds it, on NetLab a socket opened through the API.
    /// </summary>
    public static void Compare(Step[] steps, (string Node, ushort Port)[] listeners,
        [CallerMemberName] string test = "", [CallerFilePath] string source = "")
    {
        var linux = new List<CommandResult>();
        var netlab = new List<CommandResult>();
        using (var ns = LinuxNetns.CreateRouted(Delay))
        {
            var (world, hosts) = NetLabRouted(Delay);
            var servers = new List<System.Diagnostics.Process>();
            using (world)
            {
                foreach (var s in Setup)
                {
                    ns.Exec(s.Node, s.Command).ThrowIfFailed($"Linux setup {s}");
                    RunNetLab(world, hosts[s.Node], s.Command).ThrowIfFailed($"NetLab setup {s}");
                }
                var sockets = new List<TcpSocket>();
                foreach (var (node, port) in listeners)
                {
                    servers.Add(ns.StartPython(node, ListenerPy(port)));
                    var l = hosts[node].Tcp.Open();
                    l.ReuseAddress = true;
                    if (l.Bind(Ipv4Address.Any, port) != Errno.None || l.Listen(5) != Errno.None)
                        throw new InvalidOperationException($"NetLab listener {node}:{port}");
                    sockets.Add(l);
                }
                // Linux's steps back to back, so that its timers run as they would in a shell; then NetLab's.
                try
                {
                    foreach (var s in steps)
                    {
                        var l = ns.Exec(s.Node, s.Command);
                        // ip netns exec: 'exec of "tracepath" failed: No such file or directory'.
                        if (l.ExitCode != 0 && l.Stderr.StartsWith("exec of \"", StringComparison.Ordinal))
                            Assert.Fail($"{s.Command.Split(' ')[0]} is not installed: ./test run as root installs what real-peer tests need ({l.Stderr.Trim()})");
                        linux.Add(l);
                    }
                }
                finally
                {
                    foreach (var p in servers)
                    {
                        p.Kill();
                        p.WaitForExit();
                        p.Dispose();
                    }
                }
                foreach (var s in steps)
                {
                    netlab.Add(RunNetLab(world, hosts[s.Node], s.Command));
                    // Starting the next command takes Linux milliseconds (fork, exec, netns switch); NetLab
                    // would otherwise run it at the same virtual instant as the last one ended.
                    world.RunFor(CommandGap);
                }
                foreach (var l in sockets) l.Close();
                // Every packet goes back to the pool once queues drain (CONVENTIONS rule 3); 5 s outlasts ARP's 3.
                world.RunFor(SimDuration.FromSeconds(5));
                Assert.True(world.Pool.Outstanding == 0, $"NetLab leaked {world.Pool.Outstanding} packets");
            }
        }

        var log = TestContext.Current.TestOutputHelper;
        log?.WriteLine($"--- Linux\n{Transcript(steps, linux)}--- NetLab\n{Transcript(steps, netlab)}");
        var golden = Path.Combine(Path.GetDirectoryName(source)!, "Golden", test + ".txt");
        if (Environment.GetEnvironmentVariable("NETLAB_UPDATE_GOLDEN") == "1" || !File.Exists(golden))
            File.WriteAllText(golden, GoldenHeader(test, listeners) + Transcript(steps, linux));

        // Every step is checked, and all differences reported together.
        var differences = new List<string>();
        for (int i = 0; i < steps.Length; i++)
        {
            var (l, n) = (linux[i], netlab[i]);
            Same(differences, $"stdout of `{steps[i]}`", l.StdoutLines, n.StdoutLines);
            Same(differences, $"stderr of `{steps[i]}`", l.StderrLines, n.StderrLines);
            if (l.ExitCode != n.ExitCode) differences.Add($"exit status of `{steps[i]}`: Linux {l.ExitCode}, NetLab {n.ExitCode}");
        }
        if (differences.Count > 0) Assert.Fail(string.Join("\n\n", differences));

        // The recorded transcript must still be what Linux prints, or readers are misled.
        var recorded = File.ReadLines(golden).SkipWhile(line => line.StartsWith('#'));
        Assert.True(Normalise.Lines(recorded).SequenceEqual(Normalise.Lines(CommandResult.SplitLines(Transcript(steps, linux)))),
            $"{golden} no longer matches Linux: rerun with NETLAB_UPDATE_GOLDEN=1");
    }

    /// <summary>Assert.Equal on the normalised lines; a failure is kept, with both outputs in full.</summary>
    private static void Same(List<string> differences, string what, IReadOnlyList<string> linux, IReadOnlyList<string> netlab)
    {
        try
        {
            Assert.Equal(Normalise.Lines(linux), Normalise.Lines(netlab));
        }
        catch (Xunit.Sdk.XunitException e)
        {
            differences.Add($"{what} differs\n--- Linux\n{string.Join('\n', linux)}\n--- NetLab\n{string.Join('\n', netlab)}\n{e.Message}");
        }
    }

    /// <summary>Runs a command line on a NetLab host to completion in virtual time.</summary>
    private static CommandResult RunNetLab(World w, Host h, string commandLine)
    {
        var output = new CapturingOutput(w.Scheduler);
        int status = w.Scheduler.Run(ToolRunner.RunAsync(h, commandLine, output, CancellationToken.None));
        return new CommandResult(status, string.Concat(output.Lines.Select(l => l + "\n")), string.Concat(output.Errors.Select(l => l + "\n")));
    }

    /// <summary>"$ node: command", stdout, "[stderr]" and its lines if any, "[exit N]".</summary>
    private static string Transcript(Step[] steps, List<CommandResult> results)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < results.Count; i++)
        {
            sb.Append("$ ").Append(steps[i]).Append('\n').Append(results[i].Stdout);
            if (results[i].Stderr.Length > 0) sb.Append("[stderr]\n").Append(results[i].Stderr);
            sb.Append("[exit ").Append(results[i].ExitCode).Append("]\n");
        }
        return sb.ToString();
    }

    private static string GoldenHeader(string test, (string Node, ushort Port)[] listeners)
    {
        var kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        var listening = listeners.Length == 0 ? ""
            : $"# TCP listeners (backlog 5, never accepting): {string.Join(", ", listeners.Select(l => $"{l.Node}:{l.Port}"))}.\n";
        return $"# What real Linux ({kernel}) printed for RealPeerTests.{test}, after the setup in RealPeer.Setup.\n"
            + listening
            + "# Live runs compare NetLab with Linux itself; NETLAB_UPDATE_GOLDEN=1 rewrites this file.\n";
    }

    /// <summary>A python3 program that listens on <paramref name="port"/> (backlog 5), says "ready", and waits.</summary>
    private static string ListenerPy(ushort port) =>
        "import socket,time\n" +
        "l=socket.socket(); l.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); " +
        $"l.bind(('0.0.0.0',{port})); l.listen(5)\n" +
        "print('ready',flush=True); time.sleep(120)\n";
}
