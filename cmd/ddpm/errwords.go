// Library errors worded for the command line: the libraries name their own fields and types;
// only the command line knows its flags and subcommands.

package main

import (
	"errors"
	"fmt"

	"github.com/ddpm-go/ddpm/app"
	"github.com/ddpm-go/ddpm/ddpm/classifier"
	"github.com/ddpm-go/ddpm/ddpm/sampler"
	"github.com/ddpm-go/ddpm/ddpm/training"
)

// samplerFlagOf maps sampler.OptionError fields to the flags that set them.
var samplerFlagOf = map[string]string{
	"Method": "--sampler", "Steps": "--steps", "Eta": "--eta", "Variance": "--variance",
	"BatchSize": "--batch", "Guidance": "--guidance", "Corrector": "--corrector", "SNR": "--snr", "CorrectorAt": "--corrector-at", "labels": "--class", "n": "--n",
	"classifier": "--classifier DIR (train one with `ddpm train-classifier --model RUN_DIR --out DIR`)",
	"guide":      "--guide DIR (a weaker model of the same data and schedule, e.g. models/scorenet-epoch5 for models/scorenet-180)",
}

// inFlagTerms adds to a library error what to do about it on the command line.
func inFlagTerms(err error) error {
	var oe *sampler.OptionError
	var re *training.RunExistsError
	var rm *training.ResumeMismatchError
	var me *app.MissingModelError
	switch {
	case errors.As(err, &oe):
		if flag, ok := samplerFlagOf[oe.Field]; ok {
			return fmt.Errorf("%w (flag %s)", err, flag)
		}
	case errors.As(err, &rm):
		return fmt.Errorf("%w: start a new run directory with --out, or use the same value", err)
	case errors.Is(err, classifier.ErrNoClassifier):
		return fmt.Errorf("%w (train one with `ddpm train-classifier --model RUN_DIR --out DIR`)", err)
	case errors.As(err, &re):
		return fmt.Errorf("%w: pass --resume to continue it, or choose another --out", err)
	case errors.Is(err, training.ErrNoEMA):
		return fmt.Errorf("%w (--ema=false)", err)
	case errors.As(err, &me):
		return fmt.Errorf("%w (train one with `ddpm train --out %s`)", err, me.Dir)
	}
	return err
}
