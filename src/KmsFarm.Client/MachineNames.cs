namespace KmsFarm.Client;

/// <summary>Workstation names in the shape Windows setup gives a machine: <c>DESKTOP-XXXXXXX</c> for clients and
/// <c>WIN-XXXXXXXXXXX</c> for servers.</summary>
public static class MachineNames
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    public static string Create(bool server, Func<int, int> next)
    {
        int length = server ? 11 : 7;
        Span<char> chars = stackalloc char[length];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = Alphabet[next(Alphabet.Length)];
        }

        return (server ? "WIN-" : "DESKTOP-") + new string(chars);
    }

    public static string CreateRandom(bool server) => Create(server, Random.Shared.Next);
}
