using NetLab.Tools.Common;

namespace NetLab.Tools.Dmesg;

/// <summary>
/// dmesg (util-linux) without options: the host's kernel log, each line stamped "[%5lu.%06lu]" with the
/// seconds since boot at which the kernel printed it (printk's local_clock). The host booted one second
/// before the world started (<see cref="ToolContext.MonotonicNs"/>), so a line printed at virtual time
/// 2.5 s shows as [    3.500000].
/// </summary>
public sealed class DmesgTool : ITool
{
    public string Name => "dmesg";

    public Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args)
    {
        var g = new Getopt("dmesg", args, "");
        while (g.Next(out _, out _))
        {
            ctx.Output.WriteError(g.Error ?? "dmesg: invalid option");
            ctx.Output.WriteError("Try 'dmesg --help' for more information.");
            return Task.FromResult(1);
        }
        foreach (var (time, line) in ctx.Host.KernelLogLines)
        {
            long ns = ToolContext.MonotonicNs(time.Nanoseconds);
            ctx.Output.WriteLine($"[{ns / 1_000_000_000,5}.{ns / 1000 % 1_000_000:D6}] {line}");
        }
        return Task.FromResult(0);
    }
}
