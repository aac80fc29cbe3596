namespace NetLab.Tools;

/// <summary>
/// ip from iproute2 (ip/ip.c, ipaddress.c, iplink.c, iproute.c, ipneigh.c) over the host's devices,
/// addresses, FIB and neighbour table. Objects and commands may be abbreviated as iproute2 allows.
/// Options: -4, -s.
/// </summary>
public sealed class IpTool : ITool
{
    public string Name => "ip";

    public Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args) => Task.FromResult(new Ip.IpRun(ctx).Run(args));
}
