using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace NetLab.Tools.Tests.RealLinux;

/// <summary>What one command printed on real Linux, and how it exited.</summary>
internal sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    public IReadOnlyList<string> StdoutLines => SplitLines(Stdout);
    public IReadOnlyList<string> StderrLines => SplitLines(Stderr);

    /// <summary>Lines without their newlines; a final newline does not make an empty last line.</summary>
    public static IReadOnlyList<string> SplitLines(string text)
    {
        if (text.Length == 0) return [];
        var lines = text.Split('\n');
        return text.EndsWith('\n') ? lines[..^1] : lines;
    }
}

/// <summary>
/// The routed topology a — r — b in real Linux network namespaces, joined by veth pairs:
/// a:eth0 10.77.1.2/24 — r:eth0 10.77.1.1/24, r:eth1 10.77.2.1/24 — b:eth0 10.77.2.2/24 (MTU 1400).
/// Namespaces are named nlrp-PID-RANDOM-NODE, so concurrent runs never meet; Dispose deletes them.
/// Addresses, routes and forwarding are configured by <see cref="RealPeer.Setup"/>, the same commands
/// NetLab runs, so only the cabling is here. Needs root, iproute2, and sch_netem for a delay.
/// </summary>
internal sealed partial class LinuxNetns : IDisposable
{
    public const string Prefix = "nlrp-";
    public const string NeedRoot = "real-peer tests need root: run ./test as root";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly string _id;
    private readonly List<string> _created = [];

    private LinuxNetns(string id) => _id = id;

    /// <summary>The namespace of <paramref name="node"/> ("a", "r" or "b").</summary>
    public string Namespace(string node) => $"{Prefix}{_id}-{node}";

    /// <summary>
    /// Builds a — r — b with each veth end delaying its egress by <paramref name="delay"/> (netem, so
    /// one way is one delay, as a NetLab link's per-direction <c>Delay</c>), or no qdisc change for zero.
    /// Everything created is deleted again if a step fails.
    /// </summary>
    public static LinuxNetns CreateRouted(TimeSpan delay)
    {
        EnsureRoot();
        RemoveStale();
        var ns = new LinuxNetns($"{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}");
        try
        {
            foreach (var node in new[] { "a", "r", "b" })
            {
                ns.Ip("netns", "add", ns.Namespace(node));
                ns._created.Add(ns.Namespace(node));
                // NetLab is IPv4 only: without IPv6 no link-local addresses, router solicitations or MLD
                // reports appear in outputs and counters. Set before the veths exist, so they inherit it.
                ns.Exec(node, "sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1").ThrowIfFailed("disable IPv6");
            }
            ns.Ip("link", "add", "eth0", "netns", ns.Namespace("a"), "type", "veth", "peer", "name", "eth0", "netns", ns.Namespace("r"));
            ns.Ip("link", "add", "eth1", "netns", ns.Namespace("r"), "type", "veth", "peer", "name", "eth0", "netns", ns.Namespace("b"));
            if (delay > TimeSpan.Zero)
            {
                string ms = (delay.TotalMilliseconds).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + "ms";
                foreach (var (node, dev) in new[] { ("a", "eth0"), ("r", "eth0"), ("r", "eth1"), ("b", "eth0") })
                {
                    var r = Run("tc", "-n", ns.Namespace(node), "qdisc", "add", "dev", dev, "root", "netem", "delay", ms);
                    if (r.ExitCode != 0)
                        throw new InvalidOperationException($"tc netem on {node}:{dev} failed ({r.Stderr.Trim()}): the kernel needs sch_netem (CONFIG_NET_SCH_NETEM) for a delay");
                }
            }
            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="commandLine"/> inside <paramref name="node"/>'s namespace, split into words
    /// as NetLab's ToolRunner splits it (no shell in between).
    /// </summary>
    public CommandResult Exec(string node, string commandLine)
    {
        if (!ToolRunner.TrySplit(commandLine, out var words, out var error)) throw new ArgumentException(error, nameof(commandLine));
        return Run("ip", ["netns", "exec", Namespace(node), .. words]);
    }

    /// <summary>Runs a program with an English C locale and returns what it printed; times out after 30 s.</summary>
    public static CommandResult Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C";
        psi.Environment["LANG"] = "C";
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{file}: {e.Message} (./test as root installs the tools real-peer tests run)", e);
        }
        using (p)
        {
            p.StandardInput.Close();
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(CommandTimeout))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {string.Join(' ', args)} ran longer than {CommandTimeout.TotalSeconds} s");
            }
            p.WaitForExit(); // drains the redirected streams
            return new CommandResult(p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
        }
    }

    /// <summary>
    /// Starts python3 running <paramref name="script"/> in <paramref name="node"/>'s namespace and waits (10 s
    /// at most) for it to print "ready". The caller kills it.
    /// </summary>
    public Process StartPython(string node, string script)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", Namespace(node), "python3", "-c", script }) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("python3 did not start");
        var ready = p.StandardOutput.ReadLineAsync();
        if (!ready.Wait(TimeSpan.FromSeconds(10)) || ready.Result != "ready")
        {
            p.Kill();
            throw new InvalidOperationException($"python3 on {node} failed: {p.StandardError.ReadToEnd()}");
        }
        return p;
    }

    public void Dispose()
    {
        // Deleting a namespace destroys its end of each veth, and with it the peer.
        for (int i = _created.Count - 1; i >= 0; i--) Run("ip", "netns", "del", _created[i]);
        _created.Clear();
    }

    private void Ip(params string[] args) => Run("ip", args).ThrowIfFailed("ip " + string.Join(' ', args));

    /// <summary>Fails the test, with the way out, unless the effective uid is 0: no silent skip.</summary>
    private static void EnsureRoot()
    {
        // /proc/self/status "Uid:" lists real, effective, saved and filesystem uids.
        var uid = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal))
            .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[2];
        if (uid != "0") Assert.Fail(NeedRoot);
    }

    /// <summary>Deletes namespaces left by real-peer runs whose process is gone (killed before Dispose).</summary>
    private static void RemoveStale()
    {
        foreach (var line in CommandResult.SplitLines(Run("ip", "netns", "list").Stdout))
        {
            var m = StaleName().Match(line);
            if (m.Success && !Directory.Exists($"/proc/{m.Groups[2].Value}")) Run("ip", "netns", "del", m.Groups[1].Value);
        }
    }

    [GeneratedRegex(@"^(nlrp-(\d+)-[0-9a-f]+-[a-z]+)\b")]
    private static partial Regex StaleName();
}

internal static class CommandResultExtensions
{
    public static CommandResult ThrowIfFailed(this CommandResult r, string what) =>
        r.ExitCode == 0 ? r : throw new InvalidOperationException($"{what}: exit {r.ExitCode}: {r.Stderr.Trim()}");
}
