from cxa.cli import app

app(prog_name="cxa")
