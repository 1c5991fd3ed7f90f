using Spectre.Console;

namespace KmsFarm.Client.Cli;

/// <summary>A Spectre.Console console over a command's output: colours, live updates and the terminal's width when it
/// is the process's own terminal; plain text 160 columns wide when it is redirected (a file, a pipe, a test).</summary>
internal static class TerminalOutput
{
    public const int RedirectedWidth = 160;

    public static IAnsiConsole Create(TextWriter writer)
    {
        bool terminal = (ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected)
            || (ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!terminal)
        {
            console.Profile.Width = RedirectedWidth;
        }

        return console;
    }

    /// <summary>True when <paramref name="console"/> can redraw in place (a live display).</summary>
    public static bool IsLive(IAnsiConsole console) => console.Profile.Capabilities.Ansi && console.Profile.Capabilities.Interactive;
}
