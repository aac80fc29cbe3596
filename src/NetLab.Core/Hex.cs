namespace NetLab.Core;

/// <summary>Hex strings as Wireshark copies them ("Copy as Hex Stream"), spaces and newlines allowed.</summary>
public static class Hex
{
    public static byte[] Parse(string hex)
    {
        var clean = new string(hex.Where(Uri.IsHexDigit).ToArray());
        return Convert.FromHexString(clean);
    }

    public static string Format(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
