using System.Diagnostics;
using System.Globalization;
using Greeter.Client;
using Reactive.K8sLb;
using Spectre.Console;

namespace Demo;

/// <summary>One row of the live table.</summary>
/// <param name="Ejection">Outlier ejection (<see cref="DemoMetrics.Ejection"/>): ejected, readmitted or -.</param>
/// <param name="Zone">The endpoint's zone, marked "(local)" when it is the client's, or - when unknown.</param>
/// <param name="Load">Calls in flight and latency estimate under a load-aware policy (<see cref="DemoMetrics.LoadOf"/>), or -.</param>
internal sealed record PodRow(string Pod, string Address, string State, bool InChannel, long Calls, long Picks = 0, string Ejection = "-", string Zone = "-", string Load = "-");

/// <summary>
/// Shows the run: a live Spectre.Console view (a header with the run's status and the discovery status, a table of the
/// pods, their state, whether the channel has them, whether the balancer ejected them and calls each, and the recent
/// story lines) or, with --no-ui, one
/// plain line per story step and a summary line per second. Every change of the discovery status is logged.
/// </summary>
internal sealed class Dashboard
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly Queue<string> _recent = new();
    private readonly bool _noUi;
    private readonly EndpointTracker _discovery;
    private readonly Func<IReadOnlyList<PodRow>> _rows;
    private readonly Func<string> _status;
    private readonly DemoMetrics _metrics;
    private (DiscoveryHealth, bool, string?)? _lastLogged;

    /// <param name="noUi">Plain lines instead of the live view.</param>
    /// <param name="discovery">The tracker on the discovery subscription the channel uses (no second watch).</param>
    /// <param name="rows">The table's rows.</param>
    /// <param name="status">The run's status for the header (step, calls, failures).</param>
    /// <param name="metrics">The library's instruments, read live.</param>
    public Dashboard(bool noUi, EndpointTracker discovery, Func<IReadOnlyList<PodRow>> rows, Func<string> status, DemoMetrics metrics)
    {
        _metrics = metrics;
        _noUi = noUi;
        _discovery = discovery;
        _rows = rows;
        _status = status;
        discovery.Updated += update => LogStatusChange(update.Status);
    }

    public void Log(string message)
    {
        var line = $"t={Elapsed():F1}s {message}";
        if (_noUi)
        {
            Console.WriteLine(line);
            return;
        }

        lock (_recent)
        {
            _recent.Enqueue(line);
            while (_recent.Count > 8) _recent.Dequeue();
        }
    }

    /// <summary>Refreshes the view until <paramref name="done"/> completes.</summary>
    public async Task RunAsync(Task done)
    {
        if (_noUi)
        {
            while (await Task.WhenAny(done, Task.Delay(1000)).ConfigureAwait(false) != done)
            {
                var current = _rows();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"t={Elapsed():F0}s {_status()} | discovery: {_discovery.Status.Health} | channel: {current.Count(r => r.InChannel)} endpoints | {string.Join(' ', current.Where(r => r.Calls > 0 || r.InChannel).Select(r => $"{r.Pod}={r.Calls}{(r.InChannel ? string.Empty : "(out)")}{(r.Ejection == "ejected" ? "(ejected)" : string.Empty)}"))} | {_metrics.Line()}"));
            }

            return;
        }

        await AnsiConsole.Live(Render()).AutoClear(false).StartAsync(async context =>
        {
            while (await Task.WhenAny(done, Task.Delay(250)).ConfigureAwait(false) != done)
            {
                context.UpdateTarget(Render());
            }

            context.UpdateTarget(Render());
        }).ConfigureAwait(false);
    }

    private double Elapsed() => Stopwatch.GetElapsedTime(_started).TotalSeconds;

    /// <summary>Logs the discovery status when its health, synchronisation or message changed.</summary>
    private void LogStatusChange(DiscoveryStatus status)
    {
        var key = (status.Health, status.IsSynchronized, status.Message);
        lock (_recent)
        {
            if (_lastLogged == key) return;
            _lastLogged = key;
        }

        Log($"discovery: {status}");
    }

    private Rows Render()
    {
        var discovery = _discovery.Status;
        var color = discovery.Health switch
        {
            DiscoveryHealth.Healthy => "green",
            DiscoveryHealth.Failing => "red",
            _ => "yellow",
        };
        var header = new Markup(string.Create(
            CultureInfo.InvariantCulture,
            $"[bold]t={Elapsed():F1}s[/]  {Markup.Escape(_status())}\ndiscovery: [{color}]{Markup.Escape(discovery.ToString())}[/]\n[grey]{Markup.Escape(_metrics.Line())}[/]"));
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("pod");
        table.AddColumn("address");
        table.AddColumn("zone");
        table.AddColumn("endpoint state");
        table.AddColumn("in channel");
        table.AddColumn("ejection");
        table.AddColumn(new TableColumn("calls served").RightAligned());
        table.AddColumn(new TableColumn("picked (metric)").RightAligned());
        table.AddColumn(new TableColumn("in flight / latency").RightAligned());
        foreach (var row in _rows())
        {
            var state = row.State switch
            {
                "ready" => "[green]ready[/]",
                "terminating" => "[yellow]terminating[/]",
                "not ready" => "[red]not ready[/]",
                _ => $"[grey]{Markup.Escape(row.State)}[/]",
            };
            table.AddRow(
                Markup.Escape(row.Pod),
                Markup.Escape(row.Address),
                row.Zone.EndsWith("(local)", StringComparison.Ordinal) ? $"[green]{Markup.Escape(row.Zone)}[/]" : Markup.Escape(row.Zone),
                state,
                row.InChannel ? "[green]yes[/]" : "[grey]no[/]",
                row.Ejection switch
                {
                    "ejected" => "[red]ejected[/]",
                    "readmitted" => "[green]readmitted[/]",
                    _ => $"[grey]{Markup.Escape(row.Ejection)}[/]",
                },
                row.Calls.ToString(CultureInfo.InvariantCulture),
                row.Picks.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(row.Load));
        }

        string[] lines;
        lock (_recent) lines = [.. _recent];
        var log = new Panel(new Markup(Markup.Escape(string.Join('\n', lines.DefaultIfEmpty(" "))))).Header("story").Expand();
        return new Rows(header, table, log);
    }
}
