using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using NetLab.Tools.Tests.RealLinux;

namespace NetLab.Real.Tests.RealLinux;

/// <summary>
/// The TAP topology of the real-peer tests: one network namespace <c>nltap-PID-RANDOM</c> holding TAP device
/// tap0, whose kernel side is 10.77.0.1/24 (the peer: the Linux stack, curl, socat, python3), and the netlab
/// process attached to it as 10.77.0.2/24. Dispose stops netlab (SIGTERM) and deletes the namespace, which
/// deletes tap0; a run that was killed is cleaned up by the next one (the PID in the name is gone).
/// </summary>
internal sealed partial class TapLab : IDisposable
{
    public const string Prefix = "nltap-";
    public const string KernelAddress = "10.77.0.1", NetLabAddress = "10.77.0.2";

    private readonly List<NetLabProcess> _processes = [];
    private readonly List<Process> _background = [];

    private TapLab(string ns) => Namespace = ns;

    public string Namespace { get; }

    /// <summary>Skips the test, with the reason, unless running as root (./test runs them as root).</summary>
    public static void RequireRoot()
    {
        var uid = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal))
            .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[2];
        if (uid != "0") Assert.Skip("TAP real-peer tests need root (network namespaces, /dev/net/tun): run ./test as root");
    }

    /// <summary>Creates the namespace and tap0 (up, 10.77.0.1/24, IPv6 off); <paramref name="createTap"/> false leaves tap0 to netlab --create.</summary>
    public static TapLab Create(bool createTap = true)
    {
        RequireRoot();
        RemoveStale();
        var lab = new TapLab($"{Prefix}{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}");
        LinuxNetns.Run("ip", "netns", "add", lab.Namespace).ThrowIfFailed("ip netns add");
        try
        {
            lab.Sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 && ip link set lo up").ThrowIfFailed("netns setup");
            if (createTap) lab.Sh("ip tuntap add dev tap0 mode tap && ip addr add 10.77.0.1/24 dev tap0 && ip link set tap0 up").ThrowIfFailed("tap0 setup");
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    /// <summary>Runs a shell command line in the namespace (the kernel's side).</summary>
    public CommandResult Sh(string script) => LinuxNetns.Run("ip", "netns", "exec", Namespace, "sh", "-c", script);

    /// <summary>Starts `netlab attach --tap tap0 --addr 10.77.0.2/24 ARGS` in the namespace and waits until it is attached.</summary>
    public NetLabProcess StartNetLab(params string[] args)
    {
        var p = NetLabProcess.Start(Namespace, ["attach", "--tap", "tap0", "--addr", $"{NetLabAddress}/24", .. args]);
        _processes.Add(p);
        if (!p.WaitForOutput("attached as eth0", TimeSpan.FromSeconds(60)))
            throw new InvalidOperationException($"netlab did not attach:\n{p.Stdout}\n{p.Stderr}");
        return p;
    }

    /// <summary>Runs `netlab attach ... ARGS` to its end (with --exec and no --serve) and returns its status and output.</summary>
    public CommandResult RunNetLab(params string[] args)
    {
        var p = NetLabProcess.Start(Namespace, ["attach", "--tap", "tap0", "--addr", $"{NetLabAddress}/24", .. args]);
        _processes.Add(p);
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) throw new TimeoutException($"netlab ran longer than 3 minutes:\n{p.Stdout}");
        return new CommandResult(p.ExitCode, p.Stdout, p.Stderr);
    }

    /// <summary>
    /// Starts <paramref name="command"/> in the namespace (a server, a long download); if <paramref name="ready"/> is
    /// given, returns once that shell test succeeds. Dispose kills it: deleting a namespace does not end its processes.
    /// </summary>
    public Process StartBackground(string[] command, string? ready = null)
    {
        var psi = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", Namespace }.Concat(command)) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        _background.Add(p);
        if (ready is null) return p;
        for (int i = 0; i < 100; i++)
        {
            if (Sh(ready).ExitCode == 0) return p;
            Thread.Sleep(50);
        }
        throw new InvalidOperationException($"{command[0]} did not start");
    }

    public void Dispose()
    {
        foreach (var p in _processes) p.Dispose();
        foreach (var p in _background)
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            p.WaitForExit();
            p.Dispose();
        }
        LinuxNetns.Run("ip", "netns", "del", Namespace);
    }

    private static void RemoveStale()
    {
        foreach (var line in CommandResult.SplitLines(LinuxNetns.Run("ip", "netns", "list").Stdout))
        {
            var m = StaleName().Match(line);
            if (m.Success && !Directory.Exists($"/proc/{m.Groups[2].Value}")) LinuxNetns.Run("ip", "netns", "del", m.Groups[1].Value);
        }
    }

    [GeneratedRegex(@"^(nltap-(\d+)-[0-9a-f]+)\b")]
    private static partial Regex StaleName();
}

/// <summary>A netlab process in a namespace, its output collected as it comes.</summary>
internal sealed class NetLabProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new(), _stderr = new();
    private bool _disposed;

    private NetLabProcess(Process p) => _process = p;

    /// <summary>src/NetLab.Cli's build output in the configuration these tests were built in.</summary>
    public static string NetLabDll
    {
        get
        {
            var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));        // tests/NetLab.Real.Tests/bin/CONFIG/net10.0
            string framework = bin.Name, configuration = bin.Parent!.Name;
            var repo = bin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(repo, "src", "NetLab.Cli", "bin", configuration, framework, "netlab.dll");
        }
    }

    public static NetLabProcess Start(string ns, string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // ip netns exec execs dotnet in place: the process's pid is netlab's, so signals reach it.
        foreach (var a in new[] { "netns", "exec", ns, "dotnet", NetLabDll }.Concat(args)) psi.ArgumentList.Add(a);
        var p = new NetLabProcess(Process.Start(psi)!);
        p._process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (p._stdout) p._stdout.Append(e.Data).Append('\n'); };
        p._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (p._stdout) p._stderr.Append(e.Data).Append('\n'); };
        p._process.BeginOutputReadLine();
        p._process.BeginErrorReadLine();
        return p;
    }

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }
    public string Stderr { get { lock (_stdout) return _stderr.ToString(); } }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public bool WaitForOutput(string text, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (Stdout.Contains(text, StringComparison.Ordinal)) return true;
            if (_process.HasExited) return Stdout.Contains(text, StringComparison.Ordinal);
            Thread.Sleep(20);
        }
        return false;
    }

    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) return false;
        _process.WaitForExit();   // drains the redirected streams
        return true;
    }

    /// <summary>kill -TERM.</summary>
    public void Terminate() => LinuxNetns.Run("kill", "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_process.HasExited)
        {
            Terminate();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(5))) _process.Kill();
        }
        _process.Dispose();
    }
}
