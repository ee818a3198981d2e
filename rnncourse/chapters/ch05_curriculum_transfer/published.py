"""What the papers behind chapter 5 report, with where each statement stands in the paper and
how it was checked. The page prints these beside its own results; nothing here is computed.

"Checked" says what was read: the paper's own text, its abstract only, a verbatim quotation of
it elsewhere, or the authors' released code. Where only a quotation or the code was read, the
page says so.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CURRICULUM_FINDINGS", "Finding", "TRANSFER_FINDINGS"]


@dataclass(frozen=True)
class Finding:
    """One published statement: who, what (quoted where in quotation marks), where, how read."""

    source: str  # the bibliography key
    authors: str  # as the page names them
    statement: str
    where: str
    checked: str


CURRICULUM_FINDINGS = (
    Finding("zaremba2014learning", "Zaremba and Sutskever 2014",
            "\"while conventional curriculum learning proved ineffective, we developed a new "
            "variant of curriculum learning that improved our networks' performance in all "
            "experimental conditions\"",
            "abstract (arXiv:1410.4615v3)", "the abstract itself"),
    Finding("zaremba2014learning", "Zaremba and Sutskever 2014",
            "the new variant (combined) made it \"possible to train an LSTM to add two 9-digit "
            "numbers with 99% accuracy\"",
            "abstract", "the abstract itself; the unit of the 99% (per answer character, the "
                        "previous true character given) is the paper's evaluation as quoted "
                        "elsewhere, not read by us in its body"),
    Finding("zaremba2014learning", "Zaremba and Sutskever 2014",
            "the naive strategy \"sometimes it gives even worse performance than baseline\" (no "
            "curriculum)",
            "sec. 4", "a verbatim quotation only, not the paper's text"),
    Finding("zaremba2014learning", "Zaremba and Sutskever 2014",
            "combined \"would generally (but not always) outperform the mix strategy\"; on "
            "memorisation, \"the combined strategy no longer outperforms the mixed strategy in "
            "every experimental setting\"",
            "sec. 4 and sec. 6.3", "a verbatim quotation only, not the paper's text"),
    Finding("zaremba2014learning", "Zaremba and Sutskever 2014",
            "2 layers of 400 LSTM units, weights uniform in ±0.08, SGD at learning rate 0.5 "
            "(× 0.8 each time the target level is reached), batches of 100, gradient norm "
            "clipped at 5; naive and combined (`blend`) move on when validation accuracy "
            "exceeds 95% (or training accuracy has not improved over 5 evaluations); combined "
            "draws 1 example in 5 from mix",
            "released code: main.lua, utils/strategies.lua (github.com/wojciechz/"
            "learning_to_execute)", "the code"),
    Finding("collier2018empirical", "Collier and Beel 2018",
            "the best syllabus for speed of learning is task dependent; the best hand-crafted "
            "one combines stepping through the tasks in order of difficulty with a uniform "
            "distribution over all tasks",
            "abstract", "the abstract itself"),
    Finding("bengio2009curriculum", "Bengio et al. 2009",
            "\"significant improvements in generalization can be achieved\"; a curriculum "
            "\"can be seen as a particular form of continuation method\"",
            "abstract", "the abstract itself"),
)

TRANSFER_FINDINGS = (
    Finding("howard2018universal", "Howard and Ruder 2018",
            "\"with only 100 labeled examples, it matches the performance of training from "
            "scratch on 100x more data\" (text classification)",
            "abstract (arXiv:1801.06146)", "the abstract itself"),
    Finding("howard2018universal", "Howard and Ruder 2018",
            "with 100 labelled examples, supervised ULMFiT matches training from scratch on 10x "
            "(IMDb) and 20x (AG News) more data; the 100x needs 50k-100k unlabelled in-domain "
            "examples as well (semi-supervised)",
            "sec. 5, Fig. 3", "the authors' slides and summaries of the paper, not the PDF"),
    Finding("howard2018universal", "Howard and Ruder 2018",
            "validation error rate (%) without / with pretraining: IMDb 5.63 / 5.00, TREC-6 "
            "10.67 / 5.69, AG 5.52 / 5.38; \"Pretraining is most useful for small and "
            "medium-sized datasets\"",
            "Table 4", "an excerpt of the paper quoted elsewhere and the authors' slides, not "
                       "the PDF"),
    Finding("howard2018universal", "Howard and Ruder 2018",
            "discriminative fine-tuning: choose the last layer's learning rate, then "
            "η^(l-1) = η^l / 2.6 for each layer below",
            "sec. 3.2", "a verbatim quotation of the paragraph, not the PDF"),
    Finding("dai2015semi", "Dai and Le 2015",
            "LSTMs pretrained as language models or sequence autoencoders \"are more stable "
            "and generalize better\"",
            "abstract (arXiv:1511.01432)", "the abstract itself"),
    Finding("yosinski2014transferable", "Yosinski et al. 2014",
            "features \"must eventually transition from general to specific by the last layer "
            "of the network\" (image networks trained on ImageNet)",
            "abstract", "the abstract itself"),
)
