using NetLab.Core.Packets;
using NetLab.Core.Randomness;
using NetLab.Core.Time;
using NetLab.Drill.Running;
using NetLab.Stack;

namespace NetLab.Drill.Tests;

public class ShellCommandsTests
{
    private static (Host Host, ShellCommands Shell, List<string> Warnings) Make()
    {
        var host = new Host("h", new Scheduler(), new RandomStreams(1), new PacketPool());
        var warnings = new List<string>();
        return (host, new ShellCommands(host.Sysctl, warnings.Add), warnings);
    }

    [Fact]
    public void Sysctl_WithQuotesAndArithmetic_SetsTheTree()
    {
        var (host, shell, _) = Make();
        Assert.Null(shell.Run("sysctl -q net.ipv4.tcp_rmem=\"4096 540000 $((15*1024*1024))\" net.ipv4.tcp_sack=0", "."));
        Assert.Equal([4096, 540000, 15728640], host.TcpSysctl.TcpRmem);
        Assert.Equal(0, host.TcpSysctl.TcpSack);
    }

    [Fact]
    public void ProcWrites_AndSetSysctlsPy_SetTheTree()
    {
        var (host, shell, _) = Make();
        Assert.Null(shell.Run("echo 3 > /proc/sys/net/ipv4/tcp_syn_retries\n../common/set_sysctls.py /proc/sys/net/ipv4/tcp_timestamps=0", "."));
        Assert.Equal(3, host.TcpSysctl.TcpSynRetries);
        Assert.Equal(0, host.TcpSysctl.TcpTimestamps);
    }

    [Fact]
    public void UnknownCommandsAndSysctls_AreWarnings()
    {
        var (_, shell, warnings) = Make();
        Assert.Null(shell.Run("tc qdisc add dev tun0 root pfifo\nsysctl -q net.ipv4.tcp_fack=0", "."));
        Assert.Equal(2, warnings.Count);
    }

    [Fact]
    public void InvalidValue_IsAnError()
    {
        var (_, shell, _) = Make();
        Assert.Contains("Invalid argument", shell.Run("sysctl -q net.ipv4.tcp_sack=7", "."));
    }

    [Fact]
    public void DefaultsScript_IsFollowedThroughItsLinkFile()
    {
        // tcp/common/defaults.sh is a symbolic link checked out as a file naming ../../common/defaults.sh.
        var (host, shell, _) = Make();
        Assert.Null(shell.Run("../common/defaults.sh", Path.Combine(Paths.PacketdrillDir, "tcp", "blocking")));
        Assert.Equal(262144, host.TcpSysctl.TcpWmem[1]);
        Assert.Equal(5, host.TcpSysctl.TcpSynRetries);
        Assert.Equal(0, host.TcpSysctl.TcpSlowStartAfterIdle);
    }

    [Theory]
    [InlineData("15*1024*1024", 15728640L)]
    [InlineData("(1+2)*3 - 4/2", 7L)]
    [InlineData("1/0", null)]
    [InlineData("x", null)]
    public void Arithmetic(string expr, long? value) => Assert.Equal(value, ShellCommands.Arithmetic(expr));
}
