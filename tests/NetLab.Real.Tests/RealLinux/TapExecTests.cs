using System.Globalization;
using NetLab.Tools.Tests.RealLinux;

namespace NetLab.Real.Tests.RealLinux;

/// <summary>
/// netlab attach --exec: the NetLab host runs its tools against the kernel on tap0's side, prints what they
/// print, and exits with the last command's status. Each test has its own namespace. Needs root.
/// </summary>
public class TapExecTests
{
    [Fact]
    public void NetLabPingsAndTraceroutesTheKernel()
    {
        using var lab = TapLab.Create();
        var r = lab.RunNetLab("--exec", "ping -c 3 -i 0.2 10.77.0.1", "--exec", "traceroute -n -q 1 10.77.0.1");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Contains("$ ping -c 3 -i 0.2 10.77.0.1", r.StdoutLines);
        Assert.Contains("3 packets transmitted, 3 received, 0% packet loss", r.Stdout);
        Assert.Contains("traceroute to 10.77.0.1 (10.77.0.1), 30 hops max, 60 byte packets", r.StdoutLines);
        Assert.Matches(@"(?m)^ 1  10\.77\.0\.1  \d+\.\d+ ms$", r.Stdout);
        // The counters at exit: netstat -s saw the echo replies.
        Assert.Contains("$ netstat -s", r.StdoutLines);
        Assert.Contains("        echo replies: 3", r.StdoutLines);
    }

    /// <summary>100 MB from python3's http.server to NetLab's curl -o: the kernel sends, NetLab receives.</summary>
    [Fact]
    public void NetLabFetches100MBFromLinux_Sha256Matches()
    {
        using var files = new TapFiles();
        var big = files.Random("big", TapFiles.HundredMegabytes);
        using var lab = TapLab.Create();
        StartHttpServer(lab, files.Dir);
        var output = files.PathOf("fetched");
        var r = lab.RunNetLab("--exec", $"curl -s -o {output} -w '%{{size_download}} %{{speed_download}}\\n' http://10.77.0.1:8000/big");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Equal(TapFiles.Sha256(big), TapFiles.Sha256(output));
        var figures = r.StdoutLines.Single(l => l.StartsWith($"{TapFiles.HundredMegabytes} ", StringComparison.Ordinal)).Split(' ');
        TapFiles.Report($"100 MB kernel -> NetLab (HTTP GET, NetLab curl from python3 http.server): {TapFiles.MegabytesPerSecond(double.Parse(figures[1], CultureInfo.InvariantCulture))}");
    }

    /// <summary>A refused connection ends --exec with curl's status 7, which becomes netlab's.</summary>
    [Fact]
    public void ExitStatus_IsTheLastCommands()
    {
        using var lab = TapLab.Create();
        var r = lab.RunNetLab("--exec", "ping -c 1 10.77.0.1", "--exec", "curl http://10.77.0.1:1/");
        Assert.Equal(7, r.ExitCode);
        Assert.Contains("curl: (7) Failed to connect to 10.77.0.1 port 1 after", r.Stderr);
    }

    /// <summary>--sysctl and --gateway configure the host before it starts: ip route shows the default, the kernel sees TTL 33.</summary>
    [Fact]
    public void SysctlAndGateway_ApplyToTheHost()
    {
        using var lab = TapLab.Create();
        var netlab = lab.StartNetLab("--sysctl", "net.ipv4.ip_default_ttl=33", "--gateway", "10.77.0.1",
            "--serve", "tcp:7:echo", "--exec", "ip route", "--exec", "sysctl net.ipv4.ip_default_ttl");
        Assert.True(netlab.WaitForOutput("net.ipv4.ip_default_ttl = 33", TimeSpan.FromSeconds(10)), netlab.Stdout);
        Assert.Contains("default via 10.77.0.1 dev eth0", netlab.Stdout);
        Assert.Contains("ttl=33", lab.Sh("ping -c 1 10.77.0.2").Stdout);
        var bad = lab.Sh($"dotnet {NetLabProcess.NetLabDll} attach --tap tap0 --addr 10.77.0.3/24 --sysctl net.ipv4.no_such=1");
        Assert.Equal(2, bad.ExitCode);
        Assert.Equal("netlab attach: --sysctl net.ipv4.no_such=1: cannot stat /proc/sys/net/ipv4/no_such: No such file or directory", bad.Stderr.Trim());
    }

    /// <summary>NetLab's nc sends a here-string to socat listening on the kernel's side; -N closes after it.</summary>
    [Fact]
    public void NetLabNcSendsToSocat()
    {
        using var files = new TapFiles();
        using var lab = TapLab.Create();
        var received = files.PathOf("received");
        var socat = lab.StartBackground(["socat", "-u", "TCP-LISTEN:5000,bind=10.77.0.1,reuseaddr", $"CREATE:{received}"],
            ready: "ss -Htln 'sport = :5000' | grep -q LISTEN");
        var r = lab.RunNetLab("--exec", "nc -N 10.77.0.1 5000 <<< hello");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.True(socat.WaitForExit(10_000), "socat did not see the end of the stream");
        Assert.Equal("hello\n", File.ReadAllText(received));
    }

    /// <summary>python3 -m http.server on 10.77.0.1:8000, serving <paramref name="dir"/>, answering.</summary>
    private static void StartHttpServer(TapLab lab, string dir) =>
        lab.StartBackground(["python3", "-m", "http.server", "8000", "--bind", "10.77.0.1", "--directory", dir],
            ready: "curl -s -o /dev/null http://10.77.0.1:8000/");
}
