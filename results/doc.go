// Package results holds the JSON output of every evaluation command (`ddpm fid ... --json`) behind the
// README's results tables, and a test that holds the README to them: every table row that links a file
// here must show that file's numbers, formatted as scripts/results_table.py prints them.
package results
