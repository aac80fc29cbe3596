using System.Globalization;
using System.Text.RegularExpressions;
using NetLab.Core.Addressing;
using NetLab.Core.Time;

namespace NetLab.Lab.Scenarios;

/// <summary>Parses one scalar's text; on failure <paramref name="error"/> says why, as the message after "path: ".</summary>
internal delegate bool TryParseText<T>(string text, out T value, out string error);

/// <summary>The scalar value syntaxes of scenario files.</summary>
internal static partial class ScenarioValues
{
    public const int MinMtu = 68;      // RFC 791: every IPv4 host must accept 68 octets; Linux ETH_MIN_MTU
    public const int MaxMtu = 65535;   // IP_MAX_MTU

    // Digits first, so that SimDuration.TryParse (double.Parse underneath) never sees "1e3s", "Infinitys" or " 1s".
    [GeneratedRegex(@"^[0-9]+(\.[0-9]+)?(ns|us|ms|s|m)$")]
    private static partial Regex DurationSyntax();

    // tc's rate units (iproute2 tc/tc_util.c get_rate64), decimal multiples. Bare numbers and tc's "bps"
    // (bytes per second) are refused: "rate: 100" would be ambiguous to a reader.
    [GeneratedRegex(@"^(?<n>[0-9]+(\.[0-9]+)?)(?<unit>[KMGT]?bit)$", RegexOptions.IgnoreCase)]
    private static partial Regex RateSyntax();

    [GeneratedRegex(@"^(?<n>[0-9]+(\.[0-9]+)?)%$")]
    private static partial Regex LossSyntax();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_-]*$")]
    private static partial Regex NodeNameSyntax();

    // Dotted sysctl names; '/' stands for '.' inside a component, as in net.ipv4.conf.eth0/100.forwarding.
    [GeneratedRegex(@"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_/-]+)+$")]
    private static partial Regex SysctlKeySyntax();

    public static bool TryParseDuration(string text, out SimDuration value, out string error)
    {
        error = "";
        if (!DurationSyntax().IsMatch(text) || !SimDuration.TryParse(text, out value))
        {
            value = default;
            error = $"'{text}' is not a duration; expected a number and a unit, one of ns, us, ms, s, m (e.g. 10ms)";
            return false;
        }
        // The double-to-long conversion saturates (.NET 9+), so long.MaxValue means the number did not fit.
        if (value.Nanoseconds == long.MaxValue)
        {
            error = $"{text} is too long";
            return false;
        }
        return true;
    }

    public static bool TryParseRate(string text, out long bitsPerSecond, out string error)
    {
        bitsPerSecond = 0;
        error = "";
        var m = RateSyntax().Match(text);
        if (!m.Success)
        {
            error = $"'{text}' is not a rate; expected a number and a unit, one of bit, Kbit, Mbit, Gbit, Tbit (e.g. 100Mbit)";
            return false;
        }
        double scale = char.ToLowerInvariant(m.Groups["unit"].Value[0]) switch
        {
            'k' => 1e3, 'm' => 1e6, 'g' => 1e9, 't' => 1e12, _ => 1,
        };
        double bps = Math.Round(double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture) * scale);
        if (bps < 1 || bps >= long.MaxValue)
        {
            error = bps < 1 ? $"{text} is less than 1bit" : $"{text} is too large";
            return false;
        }
        bitsPerSecond = (long)bps;
        return true;
    }

    /// <summary>"0.5%" → 0.005.</summary>
    public static bool TryParseLoss(string text, out double probability, out string error)
    {
        probability = 0;
        error = "";
        var m = LossSyntax().Match(text);
        if (!m.Success)
        {
            error = $"'{text}' is not a percentage (e.g. 0.5%)";
            return false;
        }
        double percent = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
        if (percent > 100)
        {
            error = $"{text} is out of range 0%-100%";
            return false;
        }
        probability = percent / 100;
        return true;
    }

    public static bool TryParseMtu(string text, out int mtu, out string error)
    {
        error = "";
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out mtu))
        {
            error = $"'{text}' is not an integer";
            return false;
        }
        if (mtu is < MinMtu or > MaxMtu)
        {
            error = $"{text} is out of range {MinMtu}-{MaxMtu}";
            return false;
        }
        return true;
    }

    public static bool TryParseSeed(string text, out ulong seed, out string error)
    {
        error = "";
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out seed)) return true;
        error = $"'{text}' is not an unsigned 64-bit integer";
        return false;
    }

    /// <summary>YAML 1.2 core schema booleans.</summary>
    public static bool TryParseBool(string text, out bool value, out string error)
    {
        error = "";
        switch (text)
        {
            case "true" or "True" or "TRUE": value = true; return true;
            case "false" or "False" or "FALSE": value = false; return true;
            default: value = false; error = $"'{text}' is not a boolean; expected true or false"; return false;
        }
    }

    public static bool TryParsePrefix(string text, out Ipv4Prefix prefix, out string error)
    {
        bool ok = Ipv4Prefix.TryParse(text, out prefix, out var why);
        error = why ?? "";
        return ok;
    }

    /// <summary>A unicast MAC address, as Linux's is_valid_ether_addr() requires of a device address.</summary>
    public static bool TryParseMac(string text, out MacAddress mac, out string error)
    {
        error = "";
        if (!MacAddress.TryParse(text, out mac)) error = $"'{text}' is not a MAC address";
        else if (mac.IsZero) error = $"{text} is all zeros; a device address must not be";
        else if (mac.IsMulticast) error = $"{text} is a multicast address; a device address must be unicast";
        return error.Length == 0;
    }

    /// <summary>Any scalar, even an empty one.</summary>
    public static bool TryParseScalar(string text, out string value, out string error)
    {
        value = text;
        error = "";
        return true;
    }

    /// <summary>A scalar with something in it.</summary>
    public static bool TryParseText(string text, out string value, out string error)
    {
        value = text;
        error = string.IsNullOrWhiteSpace(text) ? "must not be empty" : "";
        return error.Length == 0;
    }

    public static bool TryParseNodeName(string text, out string name, out string error)
    {
        name = text;
        error = NodeNameSyntax().IsMatch(text) ? "" : $"'{text}' is not a valid name; use letters, digits, '_' and '-', starting with a letter or digit";
        return error.Length == 0;
    }

    /// <summary>Linux dev_valid_name(): 1-15 characters (IFNAMSIZ - 1), no '/', ':' or whitespace, not "." or "..".</summary>
    public static bool TryParseInterfaceName(string text, out string name, out string error)
    {
        name = text;
        error = text.Length is < 1 or > 15 || text is "." or ".." || text.Any(c => c is '/' or ':' || char.IsWhiteSpace(c))
            ? $"'{text}' is not a valid interface name; use 1-15 characters without '/', ':' or spaces"
            : "";
        return error.Length == 0;
    }

    public static bool TryParseSysctlKey(string text, out string key, out string error)
    {
        key = text;
        error = SysctlKeySyntax().IsMatch(text) ? "" : $"'{text}' is not a sysctl name; expected a dotted name such as net.ipv4.ip_forward";
        return error.Length == 0;
    }
}
