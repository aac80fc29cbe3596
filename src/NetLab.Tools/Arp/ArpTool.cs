using NetLab.Core.Addressing;
using NetLab.Stack.IPv4;
using NetLab.Stack.Neighbour;
using NetLab.Tools.Common;

namespace NetLab.Tools;

/// <summary>
/// arp from net-tools (arp.c) over the host's neighbour table, as it reads /proc/net/arp: the
/// table (default, -n), BSD style (-a), add (-s ADDR MAC [temp]), delete (-d ADDR), -i DEV.
/// Names are never resolved (no DNS), so -n changes nothing.
/// </summary>
public sealed class ArpTool : ITool
{
    private const int AtfCom = 0x02, AtfPerm = 0x04; // include/uapi/linux/if_arp.h

    public string Name => "arp";

    public Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args)
    {
        var output = ctx.Output;
        bool bsd = false, set = false, delete = false;
        string? device = null;
        var g = new Getopt("arp", args, "naesdi:v");
        while (g.Next(out var opt, out var arg))
        {
            switch (opt)
            {
                case 'n' or 'e' or 'v': break;
                case 'a': bsd = true; break;
                case 's': set = true; break;
                case 'd': delete = true; break;
                case 'i': device = arg; break;
                default:
                    // usage(E_OPTERR): the complaint and the usage text on stderr, exit 3.
                    output.WriteError(g.Error!);
                    foreach (var line in UsageText) output.WriteError(line);
                    return Task.FromResult(3);
            }
        }
        var host = ctx.Host;
        if (set) return Task.FromResult(Set(ctx, g.Operands, device));
        if (delete) return Task.FromResult(Delete(ctx, g.Operands, device));

        // arp_show(): /proc/net/arp skips NUD_NONE and NUD_NOARP entries (NEIGH_SEQ_SKIP_NOARP).
        var table = host.Neighbours.Entries.Where(n => (n.State & ~NudState.NoArp) != 0).ToList();
        var entries = table
            .Where(n => device is null || n.Device.Name == device)
            .Where(n => g.Operands.Count == 0 || n.Address.ToString() == g.Operands[0])
            .OrderBy(n => n.Device.IfIndex).ThenBy(n => n.Address.Value)
            .ToList();
        bool title = false;
        foreach (var n in entries)
        {
            // arp_state_to_flags(): PERMANENT is ATF_PERM|ATF_COM, any other valid state ATF_COM.
            int flags = (n.State & NudState.Permanent) != 0 ? AtfPerm | AtfCom : (n.State & NudState.Valid) != 0 ? AtfCom : 0;
            if (bsd)
            {
                output.WriteLine($"? ({n.Address}) at "
                    + ((flags & AtfCom) != 0 ? $"{n.LinkAddress} [ether] " : "<incomplete> ")
                    + ((flags & AtfPerm) != 0 ? "PERM " : "")
                    + $"on {n.Device.Name}");
                continue;
            }
            if (!title)
            {
                output.WriteLine("Address                  HWtype  HWaddress           Flags Mask            Iface");
                title = true;
            }
            var flagText = ((flags & AtfCom) != 0 ? "C" : "") + ((flags & AtfPerm) != 0 ? "M" : "");
            var (type, hw) = (flags & AtfCom) != 0 ? ("ether", n.LinkAddress.ToString()) : ("", "(incomplete)");
            output.WriteLine($"{Fit(n.Address.ToString(), 23)}  {Fit(type, 8)}{Fit(hw, 20)}{Fit(flagText, 6)}{Fit("", 15)} {n.Device.Name}");
        }
        if (entries.Count == 0)
        {
            if (g.Operands.Count > 0 && !bsd) output.WriteLine($"{g.Operands[0]} ({g.Operands[0]}) -- no entry");
            else if (g.Operands.Count > 0 || device is not null) output.WriteLine($"arp: in {table.Count} entries no match found.");
        }
        return Task.FromResult(0);
    }

    /// <summary>printf("%-N.Ns").</summary>
    private static string Fit(string s, int width) => s.Length > width ? s[..width] : s.PadRight(width);

    /// <summary>arp_set(): SIOCSARP, permanent unless "temp"; the device is the route's unless -i.</summary>
    private static int Set(ToolContext ctx, List<string> operands, string? device)
    {
        var output = ctx.Output;
        if (operands.Count < 2 || !Ipv4Address.TryParse(operands[0], out var ip))
        {
            output.WriteError(operands.Count < 2 ? "arp: need host name" : $"arp: {operands[0]}: Unknown host");
            return 255;
        }
        if (!MacAddress.TryParse(operands[1], out var mac))
        {
            output.WriteError("arp: invalid hardware address");
            return 255;
        }
        var dev = device is not null ? ctx.Host.FindDevice(device) : ctx.Host.Ipv4.RouteOutput(ip)?.Device;
        if (dev is null)
        {
            output.WriteError(device is not null ? "SIOCSARP: No such device" : "SIOCSARP: Network is unreachable");
            return 255;
        }
        bool temp = operands.Skip(2).Contains("temp");
        // arp_req_set(): ATF_PERM makes it PERMANENT, else the entry starts STALE.
        ctx.Host.Neighbours.SetStatic(dev, ip, mac, temp ? NudState.Stale : NudState.Permanent);
        return 0;
    }

    /// <summary>arp_del(): SIOCDARP; "No ARP entry" when there is none.</summary>
    private static int Delete(ToolContext ctx, List<string> operands, string? device)
    {
        var output = ctx.Output;
        if (operands.Count < 1 || !Ipv4Address.TryParse(operands[0], out var ip))
        {
            output.WriteError(operands.Count < 1 ? "arp: need host name" : $"arp: {operands[0]}: Unknown host");
            return 255;
        }
        var dev = device is not null ? ctx.Host.FindDevice(device) : ctx.Host.Ipv4.RouteOutput(ip) is { Type: RouteType.Unicast } r ? r.Device : null;
        if (dev is null || !ctx.Host.Neighbours.Delete(dev, ip))
        {
            output.WriteLine($"No ARP entry for {operands[0]}");
            return 255;
        }
        return 0;
    }

    /// <summary>net-tools 2.10 usage(), word for word (it lists options and hardware types NetLab does not have).</summary>
    private static readonly string[] UsageText =
    [
        "Usage:",
        "  arp [-vn]  [<HW>] [-i <if>] [-a] [<hostname>]             <-Display ARP cache",
        "  arp [-v]          [-i <if>] -d  <host> [pub]               <-Delete ARP entry",
        "  arp [-vnD] [<HW>] [-i <if>] -f  [<filename>]            <-Add entry from file",
        "  arp [-v]   [<HW>] [-i <if>] -s  <host> <hwaddr> [temp]            <-Add entry",
        "  arp [-v]   [<HW>] [-i <if>] -Ds <host> <if> [netmask <nm>] pub          <-''-",
        "",
        "        -a                       display (all) hosts in alternative (BSD) style",
        "        -e                       display (all) hosts in default (Linux) style",
        "        -s, --set                set a new ARP entry",
        "        -d, --delete             delete a specified entry",
        "        -v, --verbose            be verbose",
        "        -n, --numeric            don't resolve names",
        "        -i, --device             specify network interface (e.g. eth0)",
        "        -D, --use-device         read <hwaddr> from given device",
        "        -A, -p, --protocol       specify protocol family",
        "        -f, --file               read new entries from file or from /etc/ethers",
        "",
        "  <HW>=Use '-H <hw>' to specify hardware address type. Default: ether",
        "  List of possible hardware types (which support ARP):",
        "    ash (Ash) ether (Ethernet) ax25 (AMPR AX.25) ",
        "    netrom (AMPR NET/ROM) rose (AMPR ROSE) arcnet (ARCnet) ",
        "    dlci (Frame Relay DLCI) fddi (Fiber Distributed Data Interface) hippi (HIPPI) ",
        "    irda (IrLAP) x25 (generic X.25) eui64 (Generic EUI-64) ",
    ];
}
